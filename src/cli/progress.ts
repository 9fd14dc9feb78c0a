/** Where progress goes: stderr, or a stream standing in for it. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/**
 * Progress on stderr: a bar redrawn in place when stderr is a terminal, else plain lines (one when the
 * kind of work changes, at most one a second otherwise, and the last), so logs stay readable.
 */
export class Progress {
  readonly #label: string;
  readonly #stream: ProgressStream;
  readonly #quiet: boolean;
  #lastKind: string | undefined;
  #lastLine = 0;
  #lastDraw = 0;
  #drawn = false;

  constructor(label: string, options: { stream?: ProgressStream; quiet?: boolean } = {}) {
    this.#label = label;
    this.#stream = options.stream ?? process.stderr;
    this.#quiet = options.quiet === true;
  }

  /** `done` of `total` units, currently on `kind` (an entity or relation name). */
  update(done: number, total: number, kind: string): void {
    if (this.#quiet) return;
    const now = Date.now();
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    const finished = done >= total;
    if (this.#stream.isTTY === true) {
      if (!finished && kind === this.#lastKind && now - this.#lastDraw < 80) return;
      this.#lastKind = kind;
      this.#lastDraw = now;
      const counts = `${pct.toString().padStart(3)}% ${done}/${total} ${kind}`;
      // A steady width (not fitted to each line's counts), so the bar does not jump.
      const width = Math.max(10, Math.min(30, (this.#stream.columns ?? 80) - this.#label.length - 40));
      const filled = total === 0 ? width : Math.round((done / total) * width);
      this.#stream.write(`\r\x1b[K${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counts}`);
      this.#drawn = true;
      return;
    }
    if (!finished && kind === this.#lastKind && now - this.#lastLine < 1000) return;
    this.#lastKind = kind;
    this.#lastLine = now;
    this.#stream.write(`${this.#label}: ${kind} ${done}/${total} (${pct}%)\n`);
  }

  /** Ends the bar's line on a terminal. */
  end(): void {
    if (this.#drawn) this.#stream.write('\n');
    this.#drawn = false;
  }
}
