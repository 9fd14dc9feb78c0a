import sqlite3 from 'sqlite3';
import type { StatementListener } from '../core/events.js';
import { reportStatement, type SqliteConnection } from './connection.js';

/**
 * @internal A connection through node-sqlite3: statements run on libuv's thread pool, so waiting on the
 * disk or on another process's lock never blocks the event loop.
 */
export class NodeSqlite3Connection implements SqliteConnection {
  readonly filename: string;
  readonly #db: sqlite3.Database;
  #statements = 0;
  listener: StatementListener | undefined;

  private constructor(filename: string, db: sqlite3.Database) {
    this.filename = filename;
    this.#db = db;
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
          resolve(new NodeSqlite3Connection(filename, db));
        }
      });
    });
  }

  get statements(): number {
    return this.#statements;
  }

  all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    return new Promise((resolve, reject) => {
      this.#db.all(sql, params as unknown[], (error: Error | null, rows: T[]) => {
        reportStatement(listener, sql, params.length, rows?.length ?? 0, t0, error);
        if (error) reject(error);
        else resolve(rows);
      });
    });
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    return new Promise((resolve, reject) => {
      this.#db.run(sql, params as unknown[], function (this: sqlite3.RunResult, error: Error | null) {
        reportStatement(listener, sql, params.length, error ? 0 : this.changes, t0, error);
        if (error) reject(error);
        else resolve(this.changes);
      });
    });
  }

  exec(sql: string): Promise<void> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    return new Promise((resolve, reject) => {
      this.#db.exec(sql, (error) => {
        reportStatement(listener, sql, 0, 0, t0, error);
        if (error) reject(error);
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#db.close((error) => (error ? reject(error) : resolve()));
    });
  }
}
