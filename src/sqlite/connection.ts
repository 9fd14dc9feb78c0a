import sqlite3 from 'sqlite3';
import type { StatementListener } from '../core/events.js';
import type { CompiledColumn, CompiledKey } from '../core/schema.js';

/** A promise face over one node-sqlite3 connection, counting the statements it sends. */
export class SqliteConnection {
  readonly filename: string;
  readonly #db: sqlite3.Database;
  #statements = 0;
  /** Set to hear of every statement (events are only built when someone listens). */
  listener: StatementListener | undefined;

  private constructor(filename: string, db: sqlite3.Database) {
    this.filename = filename;
    this.#db = db;
  }

  /** Opens `filename` (`:memory:` for a private in-memory database). */
  static open(filename: string, readOnly = false): Promise<SqliteConnection> {
    const flags = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const db: sqlite3.Database = new sqlite3.Database(filename, flags, (error) => {
        if (error) reject(new Error(`cannot open SQLite database ${JSON.stringify(filename)}: ${error.message}`, { cause: error }));
        else {
          // One statement at a time per connection: a statement waiting on another process's lock then holds
          // one worker thread, not every statement queued behind it (which starved the lock holder's COMMIT).
          db.serialize();
          resolve(new SqliteConnection(filename, db));
        }
      });
    });
  }

  /** Statements sent so far. */
  get statements(): number {
    return this.#statements;
  }

  all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    return new Promise((resolve, reject) => {
      this.#db.all(sql, params as unknown[], (error: Error | null, rows: T[]) => {
        listener?.({ target: 'cache', sql, params: params.length, rows: rows?.length ?? 0, durationMs: performance.now() - t0, ...(error ? { error } : {}) });
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
        listener?.({ target: 'cache', sql, params: params.length, rows: error ? 0 : this.changes, durationMs: performance.now() - t0, ...(error ? { error } : {}) });
        if (error) reject(error);
        else resolve(this.changes);
      });
    });
  }

  /** Runs a script of statements without parameters (schema setup, PRAGMAs); counts as one call. */
  exec(sql: string): Promise<void> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    return new Promise((resolve, reject) => {
      this.#db.exec(sql, (error) => {
        listener?.({ target: 'cache', sql, params: 0, rows: 0, durationMs: performance.now() - t0, ...(error ? { error } : {}) });
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

/** Quotes an SQLite identifier (identifiers come from the schema; quoting keeps keywords safe). */
export function quoteSqlite(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * `cols IN (keys of json_each(?param))` for a key: the values themselves for one column, the components
 * of each canonical text for a composite.
 */
export function inKeys(key: CompiledKey, alias: string, param = '?'): string {
  const cols = key.columns.map((c) => `${alias}.${quoteSqlite(c.name)}`);
  if (!key.composite) return `${cols[0]} IN (SELECT value FROM json_each(${param}))`;
  return `(${cols.join(', ')}) IN (SELECT ${cols.map((_, i) => `value ->> ${i}`).join(', ')} FROM json_each(${param}))`;
}

/** `alias.cols = <key expr>` for a key whose value (or canonical text) is `expr`. */
export function keyEquals(key: CompiledKey, alias: string, expr: string): string {
  if (!key.composite) return `${alias}.${quoteSqlite((key.columns[0] as CompiledColumn).name)} = ${expr}`;
  return key.columns.map((c, i) => `${alias}.${quoteSqlite(c.name)} = ${expr} ->> ${i}`).join(' AND ');
}
