// One batch window shared by all the loaders of a view, so concurrent callers move on in step.
/**
 * @internal One batch window for all the loaders of a view.
 *
 * DataLoader gives each loader its own window and resolves each batch as soon as it is done. With several
 * loaders (one per entity, relation and mode), lookups of different kinds then come back at different
 * times, the callers that wait on them drift apart, and the next lookups of a kind arrive spread over many
 * windows: 1,000 concurrent tasks of ten lookups each (and their parents), which a lock-step schedule
 * serves in 22 origin statements, took 1,200 this way. So every loader of a view is dispatched in the same window, and the
 * batches dispatched together answer together: the callers move on in step, and their next lookups meet
 * in the next window again.
 */
export class Tick {
  #waiting: (() => void)[] | undefined;
  /** The batches of the window being dispatched, while it is. */
  #round: Promise<unknown>[] | undefined;
  #gate: Promise<unknown> | undefined;

  /** DataLoader's `batchScheduleFn`: the same timing as its default (after the promise jobs, next tick). */
  readonly schedule = (dispatch: () => void): void => {
    if (this.#waiting === undefined) {
      this.#waiting = [];
      void Promise.resolve().then(() => process.nextTick(() => this.#dispatch()));
    }
    this.#waiting.push(dispatch);
  };

  /**
   * A batch's answer, held until every batch of its window has settled. Outside a dispatch (a batch called
   * directly, not through a loader) the answer is not held.
   */
  together<T>(answer: Promise<T>): Promise<T> {
    const round = this.#round;
    if (round === undefined) return answer;
    round.push(answer);
    return (this.#gate as Promise<unknown>).then(() => answer);
  }

  #dispatch(): void {
    const waiting = this.#waiting ?? [];
    this.#waiting = undefined;
    const round: Promise<unknown>[] = [];
    let open!: (all: Promise<unknown>) => void;
    this.#gate = new Promise<unknown>((resolve) => (open = resolve));
    this.#round = round;
    try {
      for (const dispatch of waiting) dispatch();
    } finally {
      this.#round = undefined;
      this.#gate = undefined;
      open(round.length > 1 ? Promise.allSettled(round) : Promise.resolve());
    }
  }
}
