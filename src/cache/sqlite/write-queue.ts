// The cache's writes, one at a time on its connection, queued ones committed together (group commit).
import pLimit, { type LimitFunction } from 'p-limit';
import type { SqliteConnection } from '../../sqlite/connection.js';

/** A write waiting for the next group commit. */
interface QueuedWrite {
  readonly op: (db: SqliteConnection) => Promise<unknown>;
  /** One statement, atomic by itself: alone in its group it needs no BEGIN and COMMIT around it. */
  readonly single: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * What runs at the edges of every transaction the queue opens (not around a lone one-statement write):
 * `begin` right after BEGIN, inside the transaction (its failure fails the transaction); `end` once it has
 * committed or rolled back.
 */
export interface TransactionHooks {
  begin(db: SqliteConnection): Promise<void>;
  end(): void;
}

/**
 * Runs writes in transactions on one connection. Writes that queue up while one commits are committed
 * together (many concurrent batches, one transaction); if that group fails, each is retried in a
 * transaction of its own, so one bad write fails only its caller. Writes must be idempotent.
 */
export class WriteQueue {
  readonly #turn: LimitFunction = pLimit(1);
  readonly #queue: QueuedWrite[] = [];
  #draining = false;
  readonly #conn: () => SqliteConnection;
  readonly #hooks: TransactionHooks | undefined;

  /** `conn` gives the connection at commit time (it throws once the cache is closed). */
  constructor(conn: () => SqliteConnection, hooks?: TransactionHooks) {
    this.#conn = conn;
    this.#hooks = hooks;
  }

  /** Runs `op` in a transaction, grouped with the writes queued meanwhile; `single`: one statement. */
  transact<T>(op: (db: SqliteConnection) => Promise<T>, single = false): Promise<T> {
    const done = new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, single, resolve: resolve as (value: unknown) => void, reject });
    });
    this.#kick();
    return done;
  }

  /** Runs `fn` between writes, when no transaction is open (or, called with nothing, waits for them). */
  exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#turn(fn);
  }

  #kick(): void {
    if (this.#draining || this.#queue.length === 0) return;
    this.#draining = true;
    void this.#turn(async () => {
      try {
        while (this.#queue.length > 0) await this.#commitGroup(this.#queue.splice(0));
      } finally {
        this.#draining = false;
        this.#kick();
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
        await this.#begin(db);
        for (const w of group) results.push(await w.op(db));
        await db.run('COMMIT');
        this.#hooks?.end();
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
        await this.#begin(db);
        const result = await w.op(db);
        await db.run('COMMIT');
        this.#hooks?.end();
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
    this.#hooks?.end();
  }
}
