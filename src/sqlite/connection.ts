import type { StatementListener } from '../core/events.js';
import type { CompiledColumn, CompiledKey } from '../core/schema.js';

/**
 * @internal One connection to a SQLite database behind a promise face, whichever driver runs it. It counts
 * the statements it sends and reports each to `listener`, the same way for every driver, so a store's
 * statistics and logs do not depend on the driver.
 */
export interface SqliteConnection {
  readonly filename: string;
  /** Statements sent so far (a script given to `exec` counts as one). */
  readonly statements: number;
  /**
   * Rows changed so far by `run` (its own changes, not its triggers'). A write transaction in which this
   * moved has written pages, so its COMMIT commits; one in which it did not may not have.
   */
  readonly changes: number;
  /** Set to hear of every statement (events are only built when someone listens). */
  listener: StatementListener | undefined;
  /** Runs one statement and resolves to its rows (none for a statement that returns none). */
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs one statement and resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs a script of statements without parameters (schema setup, PRAGMAs); counts as one call. */
  exec(sql: string): Promise<void>;
  /**
   * From now on SQLite refuses ATTACH on this connection, and so VACUUM INTO too (it attaches its target):
   * caller SQL then cannot open or create another file, even if a check before it missed. Not a statement:
   * neither counted nor reported.
   */
  denyAttach(): Promise<void>;
  close(): Promise<void>;
}

/**
 * @internal Prepared statements a connection keeps, per driver. The cache's own SQL is a few strings per
 * table; the bound keeps caller SQL with inlined values from growing the set without end.
 */
export const MAX_KEPT_STATEMENTS = 256;

/** @internal Reports one finished statement to `listener`, as the cache's (`target` is retagged by origins). */
export function reportStatement(
  listener: StatementListener | undefined, sql: string, params: number, rows: number, t0: number, error?: Error | null,
): void {
  listener?.({ target: 'cache', sql, params, rows, durationMs: performance.now() - t0, ...(error ? { error } : {}) });
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
