// The cache's writes, one at a time on its connection, queued ones committed together (group commit).
import pLimit, { type LimitFunction } from 'p-limit';
import type { SqliteConnection } from '../../sqlite/connection.js';

/** A write waiting for the next group commit. */
interface QueuedWrite {
  readonly op: (db: SqliteConnection) => Promise<unknown>;
  /** One statement, atomic by itself: alone in its group it needs no BEGIN and COMMIT around it. */
  readonly single: boolean;
  /** May wait up to the queue's delay for company (nobody waits on it but `flush`). */
  readonly mayWait: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * What runs at the edges of every transaction the queue opens (not around a lone one-statement write):
 * `begin` right after BEGIN, inside the transaction (its failure fails the transaction); `end` once it has
 * committed or rolled back, with whether it committed changed rows (a transaction that changed nothing
 * may commit nothing to the file).
 */
export interface TransactionHooks {
  begin(db: SqliteConnection): Promise<void>;
  end(wroteRows: boolean): void;
}

/** The most writes one waiting group takes before it commits without waiting longer. */
const MAX_WAITING = 256;

/**
 * Runs writes in transactions on one connection. Writes that queue up while one commits are committed
 * together (many concurrent batches, one transaction); if that group fails, each is retried in a
 * transaction of its own, so one bad write fails only its caller. Writes must be idempotent.
 *
 * A write that nobody waits on (an answer already given) may wait up to `delayMs` for others to join its
 * transaction: lookups one after another then share a commit instead of paying one each. Any other write,
 * or `hurry()`, commits the waiting ones at once with it.
 */
export class WriteQueue {
  readonly #turn: LimitFunction = pLimit(1);
  readonly #queue: QueuedWrite[] = [];
  #draining = false;
  readonly #conn: () => SqliteConnection;
  readonly #hooks: TransactionHooks | undefined;
  readonly #delayMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** A queued write (or a caller) waits on the queue: commit without waiting for company. */
  #urgent = false;

  /**
   * `conn` gives the connection at commit time (it throws once the cache is closed); `delayMs`: how long a
   * write that may wait waits for company (0: never).
   */
  constructor(conn: () => SqliteConnection, hooks?: TransactionHooks, delayMs = 0) {
    this.#conn = conn;
    this.#hooks = hooks;
    this.#delayMs = delayMs;
  }

  /**
   * Runs `op` in a transaction, grouped with the writes queued meanwhile; `single`: one statement;
   * `mayWait`: nobody waits on it, so it may wait for company (see the class).
   */
  transact<T>(op: (db: SqliteConnection) => Promise<T>, single = false, mayWait = false): Promise<T> {
    const done = new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, single, mayWait, resolve: resolve as (value: unknown) => void, reject });
    });
    if (!mayWait) this.#urgent = true;
    this.#schedule();
    return done;
  }

  /** Commits the writes waiting for company now. */
  hurry(): void {
    if (this.#queue.length === 0) return;
    this.#urgent = true;
    this.#schedule();
  }

  /** Runs `fn` between writes, when no transaction is open (or, called with nothing, waits for them). */
  exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#turn(fn);
  }

  /** Every queued write may still wait for company (also after a commit: the next group then waits too). */
  #mayWaitNow(): boolean {
    return !this.#urgent && this.#delayMs > 0 && this.#queue.length < MAX_WAITING && this.#queue.every((w) => w.mayWait);
  }

  /** Commits the queued writes now, or once the wait for company is over. */
  #schedule(): void {
    if (this.#draining) return;
    if (this.#queue.length === 0) {
      this.#urgent = false;
      return;
    }
    if (this.#mayWaitNow()) {
      this.#timer ??= setTimeout(() => this.hurry(), this.#delayMs);
      return;
    }
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#draining = true;
    void this.#turn(async () => {
      try {
        while (this.#queue.length > 0 && !this.#mayWaitNow()) {
          this.#urgent = false;
          await this.#commitGroup(this.#queue.splice(0));
        }
      } finally {
        this.#draining = false;
        this.#schedule();
      }
    });
  }

  async #commitGroup(group: QueuedWrite[]): Promise<void> {
    let db: SqliteConnection;
    try {
      db = this.#conn();
    } catch (error) {
      for (const w of group) w.reject(error);
      return;
    }
    if (group.length > 1) {
      const results: unknown[] = [];
      try {
        const changes = db.changes;
        await this.#begin(db);
        for (const w of group) results.push(await w.op(db));
        await db.run('COMMIT');
        this.#hooks?.end(db.changes !== changes);
        group.forEach((w, i) => w.resolve(results[i]));
        return;
      } catch {
        await this.#rollback(db);
      }
    }
    for (const w of group) {
      if (w.single) {
        await w.op(db).then(w.resolve, w.reject);
        continue;
      }
      try {
        const changes = db.changes;
        await this.#begin(db);
        const result = await w.op(db);
        await db.run('COMMIT');
        this.#hooks?.end(db.changes !== changes);
        w.resolve(result);
      } catch (error) {
        await this.#rollback(db);
        w.reject(error);
      }
    }
  }

  /** BEGIN, then the `begin` hook inside the transaction. */
  async #begin(db: SqliteConnection): Promise<void> {
    await db.run('BEGIN IMMEDIATE');
    await this.#hooks?.begin(db);
  }

  /** ROLLBACK (if a transaction is open: BEGIN itself may have failed), then the `end` hook. */
  async #rollback(db: SqliteConnection): Promise<void> {
    await db.run('ROLLBACK').catch(() => undefined);
    this.#hooks?.end(false);
  }
}
