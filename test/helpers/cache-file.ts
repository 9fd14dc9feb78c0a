import sqlite3 from 'sqlite3';

/** Runs one read-only query on a SQLite file (a store's cache), outside any store. */
export function queryCacheFile<T = Record<string, unknown>>(file: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (openError) => {
      if (openError) {
        reject(openError);
        return;
      }
      db.all(sql, params, (error: Error | null, rows: T[]) => {
        db.close(() => (error ? reject(error) : resolve(rows)));
      });
    });
  });
}

/** The `ever_loaded` marks of one kind (an entity name or a relation id such as `A.bs`), keys sorted. */
export async function everLoadedKeys(file: string, kind: string): Promise<unknown[]> {
  const rows = await queryCacheFile<{ key: unknown }>(file, 'SELECT key FROM ever_loaded WHERE kind = ? ORDER BY key', [kind]);
  return rows.map((r) => r.key);
}
