// The error for caller SQL refused before it was sent anywhere, because it is not exactly one plain read.

import type { SqlDialect } from './sql-tokens.js';

/** Where caller SQL came in: `view.raw`, `view.query` (its `sql`), or `store.cacheSql`. */
export type CallerSqlEntry = 'raw' | 'query' | 'cacheSql';

/**
 * Caller SQL that was refused before anything was sent: not exactly one read statement (a write, a `CALL`,
 * a `SET`, a second statement, `INTO OUTFILE`, a locking clause, an executable comment, …), or an origin
 * whose connections could run more than one statement per query. A `TypeError`: the SQL, not the
 * database, is at fault, and retrying cannot help.
 */
export class RefusedSqlError extends TypeError {
  override name = 'RefusedSqlError';
  /** The entry point the SQL came through. */
  readonly entry: CallerSqlEntry;
  /** The SQL, as given. */
  readonly sql: string;
  /** What was refused, e.g. `a CALL statement`, `INTO OUTFILE`, `a second statement after ';'`. */
  readonly refused: string;

  constructor(entry: CallerSqlEntry, dialect: SqlDialect, sql: string, refused: string) {
    const shown = sql.length > 200 ? `${sql.slice(0, 197)}...` : sql;
    super(`${entry}: refused ${refused}: caller SQL is read-only; ${entry} runs exactly one ${allowed(dialect, entry)} statement, got ${JSON.stringify(shown)}`);
    this.entry = entry;
    this.sql = sql;
    this.refused = refused;
  }
}

/** What each entry point takes, per dialect, as messages name it. */
function allowed(dialect: SqlDialect, entry: CallerSqlEntry): string {
  if (dialect === 'mysql') return entry === 'raw' ? 'SELECT, WITH … SELECT, TABLE, VALUES, SHOW, EXPLAIN or DESCRIBE' : 'SELECT, WITH … SELECT, TABLE or VALUES';
  return entry === 'query' ? 'SELECT, WITH … SELECT or VALUES' : 'SELECT, WITH … SELECT, VALUES or EXPLAIN';
}
