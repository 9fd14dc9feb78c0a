import sqlite3 from 'sqlite3';
import type { StatementListener } from '../core/events.js';
import { MAX_KEPT_STATEMENTS, reportStatement, type SqliteConnection } from './connection.js';

const noop = (): void => undefined;

/** The library's own transaction statements, which change no row themselves (see `run`). */
const TRANSACTION_CONTROL = /^\s*(?:BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

/**
 * @internal A connection through node-sqlite3: statements run on libuv's thread pool, so waiting on the
 * disk or on another process's lock never blocks the event loop.
 */
export class NodeSqlite3Connection implements SqliteConnection {
  readonly filename: string;
  readonly #db: sqlite3.Database;
  #statements = 0;
  #changes = 0;
  listener: StatementListener | undefined;
  /**
   * Prepared statements by SQL text (the library's own statements: a read-write connection runs no caller
   * SQL). Preparing once halves what a small statement costs: a one-row merge's five statements took
   * 1.0 ms through `Database#run` and 0.45 ms through a kept `Statement` on the development machine.
   */
  readonly #prepared: Map<string, Promise<sqlite3.Statement>> | undefined;
  /**
   * Calls on a kept `Statement` bypass `db.serialize()`, so this connection queues them itself: still one
   * statement at a time, in call order.
   */
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(filename: string, db: sqlite3.Database, keepStatements: boolean) {
    this.filename = filename;
    this.#db = db;
    this.#prepared = keepStatements ? new Map() : undefined;
  }

  /** Opens `filename` (`:memory:` for a private in-memory database). */
  static open(filename: string, readOnly = false): Promise<NodeSqlite3Connection> {
    const flags = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const db: sqlite3.Database = new sqlite3.Database(filename, flags, (error) => {
        if (error) reject(new Error(`cannot open SQLite database ${JSON.stringify(filename)}: ${error.message}`, { cause: error }));
        else {
          // One statement at a time per connection: a statement waiting on another process's lock then holds
          // one worker thread, not every statement queued behind it (which starved the lock holder's COMMIT).
          db.serialize();
          resolve(new NodeSqlite3Connection(filename, db, !readOnly));
        }
      });
    });
  }

  get statements(): number {
    return this.#statements;
  }

  get changes(): number {
    return this.#changes;
  }

  all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    return this.#queued(sql, (statement) =>
      new Promise<T[]>((resolve, reject) => {
        const done = (error: Error | null, rows: T[]) => {
          reportStatement(listener, sql, params.length, rows?.length ?? 0, t0, error);
          if (error) reject(error);
          else resolve(rows);
        };
        if (statement === undefined) this.#db.all(sql, params as unknown[], done);
        else statement.all(params as unknown[], done);
      }),
    );
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    return this.#queued(sql, (statement) =>
      new Promise<number>((resolve, reject) => {
        // node-sqlite3 reports sqlite3_changes() after any statement: after BEGIN or COMMIT that is the last
        // INSERT/UPDATE/DELETE's count again, which must not read as rows this statement changed.
        const count = (changes: number) => {
          if (!TRANSACTION_CONTROL.test(sql)) this.#changes += changes;
        };
        const done = function (this: sqlite3.RunResult, error: Error | null) {
          reportStatement(listener, sql, params.length, error ? 0 : this.changes, t0, error);
          if (error) reject(error);
          else {
            count(this.changes);
            resolve(this.changes);
          }
        };
        if (statement === undefined) this.#db.run(sql, params as unknown[], done);
        else statement.run(params as unknown[], done);
      }),
    );
  }

  /** Runs `call` with the statement kept for `sql` (none on a read-only connection), after every earlier call. */
  #queued<R>(sql: string, call: (statement: sqlite3.Statement | undefined) => Promise<R>): Promise<R> {
    const go = async (): Promise<R> => call(this.#prepared === undefined ? undefined : await this.#statement(sql));
    const result = this.#tail.then(go, go);
    this.#tail = result.then(noop, noop);
    return result;
  }

  #statement(sql: string): Promise<sqlite3.Statement> {
    const kept = this.#prepared as Map<string, Promise<sqlite3.Statement>>;
    let statement = kept.get(sql);
    if (statement === undefined) {
      if (kept.size >= MAX_KEPT_STATEMENTS) {
        const [oldest, evicted] = kept.entries().next().value as [string, Promise<sqlite3.Statement>];
        kept.delete(oldest);
        void evicted.then((st) => st.finalize(), noop);
      }
      statement = new Promise<sqlite3.Statement>((resolve, reject) => {
        const st: sqlite3.Statement = this.#db.prepare(sql, (error: Error | null) => (error ? reject(error) : resolve(st)));
      });
      // A statement that failed to prepare is not kept: the next call reports its own error.
      statement.catch(() => kept.delete(sql));
      kept.set(sql, statement);
    }
    return statement;
  }

  exec(sql: string): Promise<void> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    const go = () =>
      new Promise<void>((resolve, reject) => {
        this.#db.exec(sql, (error) => {
          reportStatement(listener, sql, 0, 0, t0, error);
          if (error) reject(error);
          else resolve();
        });
      });
    const result = this.#tail.then(go, go);
    this.#tail = result.then(noop, noop);
    return result;
  }

  /** SQLite's own limit on attached databases, set to 0 (`sqlite3_limit`, which no SQL can raise again). */
  denyAttach(): Promise<void> {
    const go = () => this.#db.configure('limit', sqlite3.LIMIT_ATTACHED, 0);
    const result = this.#tail.then(go, go);
    this.#tail = result.then(noop, noop);
    return result;
  }

  async close(): Promise<void> {
    await this.#tail;
    const kept = [...(this.#prepared?.values() ?? [])];
    this.#prepared?.clear();
    await Promise.all(kept.map((p) => p.then((st) => new Promise<void>((resolve) => st.finalize(() => resolve())), noop)));
    return new Promise((resolve, reject) => {
      this.#db.close((error) => (error ? reject(error) : resolve()));
    });
  }
}
