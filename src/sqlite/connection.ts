import sqlite3 from 'sqlite3';

/** A promise face over one node-sqlite3 connection, counting the statements it sends. */
export class SqliteConnection {
  readonly filename: string;
  readonly #db: sqlite3.Database;
  #statements = 0;

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
        else resolve(new SqliteConnection(filename, db));
      });
    });
  }

  /** Statements sent so far. */
  get statements(): number {
    return this.#statements;
  }

  all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.#statements++;
    return new Promise((resolve, reject) => {
      this.#db.all(sql, params as unknown[], (error: Error | null, rows: T[]) => (error ? reject(error) : resolve(rows)));
    });
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    this.#statements++;
    return new Promise((resolve, reject) => {
      this.#db.run(sql, params as unknown[], function (this: sqlite3.RunResult, error: Error | null) {
        if (error) reject(error);
        else resolve(this.changes);
      });
    });
  }

  /** Runs a script of statements without parameters (schema setup, PRAGMAs); counts as one call. */
  exec(sql: string): Promise<void> {
    this.#statements++;
    return new Promise((resolve, reject) => {
      this.#db.exec(sql, (error) => (error ? reject(error) : resolve()));
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
 * Encodes keys as a JSON array for `json_each(?)`. Bigints go as bare digits when `bigintAsNumber`
 * (an INTEGER column) and as strings otherwise (the cache keeps bigints as TEXT to stay exact).
 */
export function keysJson(keys: readonly unknown[], bigintAsNumber: boolean): string {
  let out = '[';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (i > 0) out += ',';
    out += typeof k === 'bigint' ? (bigintAsNumber ? String(k) : `"${k}"`) : JSON.stringify(k);
  }
  return out + ']';
}
