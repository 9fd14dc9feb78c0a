// Timeouts for many calls under one timer: the origin gate's statements, and how long finished loads stay shared.

interface Pending {
  readonly at: number;
  readonly fail: () => void;
  done: boolean;
}

/**
 * @internal Gives up calls that take longer than `ms`, with one timer for all of them. A timer per call
 * cost each point lookup a timer list made and dropped (Node keeps one per duration, removed when it
 * empties). All calls share one duration, so their deadlines come in the order they were set: a queue,
 * swept when the oldest is due. The timer holds the process open only while a call is pending, as a
 * timer per call would; with `holdsProcess: false`, never (what is timed is bookkeeping, not a caller).
 */
export class Deadlines {
  readonly #ms: number;
  readonly #holdsProcess: boolean;
  readonly #queue: Pending[] = [];
  #head = 0;
  #live = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number, options: { readonly holdsProcess?: boolean } = {}) {
    this.#ms = ms;
    this.#holdsProcess = options.holdsProcess ?? true;
  }

  /**
   * Calls `fail` once `ms` have passed, unless the returned function is called first (the call settled).
   */
  set(fail: () => void): () => void {
    const entry: Pending = { at: performance.now() + this.#ms, fail, done: false };
    this.#queue.push(entry);
    if (this.#live++ === 0 && this.#holdsProcess) this.#timer?.ref();
    this.#timer ??= this.#sweepAt(entry.at);
    return () => this.#settle(entry);
  }

  #settle(entry: Pending): void {
    if (entry.done) return;
    entry.done = true;
    if (--this.#live === 0) this.#timer?.unref();
    this.#drop();
  }

  /** Forgets the settled calls at the head of the queue (most calls settle in the order they began). */
  #drop(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && (queue[this.#head] as Pending).done) this.#head++;
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      // Amortised: one splice for many settled calls, not a shift each.
      queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #sweepAt(at: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.#sweep(), Math.max(1, Math.ceil(at - performance.now())));
    if (this.#live === 0 || !this.#holdsProcess) timer.unref();
    return timer;
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    const queue = this.#queue;
    const due: Pending[] = [];
    for (let i = this.#head; i < queue.length; i++) {
      const entry = queue[i] as Pending;
      if (entry.at > now) break;
      if (!entry.done) due.push(entry);
    }
    for (const entry of due) {
      this.#settle(entry);
      entry.fail();
    }
    if (this.#head < queue.length) this.#timer ??= this.#sweepAt((queue[this.#head] as Pending).at);
  }

  /** Drops every pending deadline without calling it (the store is closing). */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (let i = this.#head; i < this.#queue.length; i++) (this.#queue[i] as Pending).done = true;
    this.#queue.length = 0;
    this.#head = 0;
    this.#live = 0;
  }
}
