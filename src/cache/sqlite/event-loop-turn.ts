// A token for the current turn of the event loop: the same object until the loop moves on.

let current: object | undefined;

/**
 * @internal The current turn of the event loop, as a token: the same object for everything that runs
 * before the loop's next check phase (this macrotask, its microtasks and `process.nextTick`s), a new one
 * after. Costs one unreferenced `setImmediate` per turn that asks.
 */
export function eventLoopTurn(): object {
  if (current === undefined) {
    current = {};
    setImmediate(() => {
      current = undefined;
    }).unref();
  }
  return current;
}
