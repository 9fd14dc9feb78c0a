import sqlite3 from 'sqlite3';

/** A promise face over one `sqlite3` connection, for creating origin files and inspecting cache files in tests. */
export interface SqliteFile {
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  run(sql: string, params?: readonly unknown[]): Promise<void>;
  exec(sql: string): Promise<void>;
  /** Table names (type 'table', without sqlite_* internals), sorted. */
  tables(): Promise<string[]>;
  /** Column names of `table`, in order. */
  columns(table: string): Promise<string[]>;
  close(): Promise<void>;
}

export function openSqlite(filename: string, readOnly = false): Promise<SqliteFile> {
  const flags = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(filename, flags, (error) => {
      if (error) return reject(error);
      const file: SqliteFile = {
        all: <T>(sql: string, params: readonly unknown[] = []) =>
          new Promise<T[]>((res, rej) => db.all<T>(sql, params as unknown[], (e, rows) => (e ? rej(e) : res(rows)))),
        run: (sql, params = []) => new Promise((res, rej) => db.run(sql, params as unknown[], (e) => (e ? rej(e) : res()))),
        exec: (sql) => new Promise((res, rej) => db.exec(sql, (e) => (e ? rej(e) : res()))),
        tables: async () =>
          (await file.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")).map((r) => r.name),
        columns: async (table) => (await file.all<{ name: string }>(`PRAGMA table_info("${table.replaceAll('"', '""')}")`)).map((r) => r.name),
        close: () => new Promise((res, rej) => db.close((e) => (e ? rej(e) : res()))),
      };
      resolve(file);
    });
  });
}
