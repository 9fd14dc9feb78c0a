// What caller SQL must pass on a mysql2 origin before anything is sent: one plain read, values that are only values, a pool that takes one statement per query.

import { assertReadOnlyStatement } from '../sql/read-only-statement.js';
import { RefusedSqlError } from '../sql/refused-sql-error.js';
import { takesMultipleStatements } from './mysql-multiple-statements.js';

/**
 * Throws {@link RefusedSqlError} unless caller SQL may be sent: a pool (when given) whose connections take
 * one statement per query, so no text the check missed can follow a `;`; exactly one read statement (see
 * `assertReadOnlyStatement`); and values without `toSqlString()`, which mysql2 would inline as raw SQL the
 * check never saw (at any depth: arrays, sets, maps and objects are inlined value by value).
 */
export function checkMysqlCallerSql(entry: 'raw' | 'query', sql: string, params: readonly unknown[], pool: unknown): void {
  if (pool !== undefined) {
    const multiple = takesMultipleStatements(pool);
    if (multiple !== false) {
      const why = multiple === undefined ? 'a pool whose mysql2 settings cannot be read (it might take several statements per query)' : 'a mysql2 pool created with multipleStatements (or the MULTI_STATEMENTS flag)';
      throw new RefusedSqlError(entry, 'mysql', sql, `${why}: caller SQL never runs where a second statement could follow; give mysqlOrigin a pool without it, or a URL or options`);
    }
  }
  assertReadOnlyStatement(sql, 'mysql', entry);
  params.forEach((value, i) => {
    const path = rawSqlIn(value, `params[${i}]`, 0);
    if (path !== undefined) throw new RefusedSqlError(entry, 'mysql', sql, `${path}, a value with toSqlString() (mysql2 would inline it as SQL)`);
  });
}

/** Where in `value` an object with `toSqlString()` is, or undefined. */
function rawSqlIn(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof Date) return undefined;
  if (typeof (value as { toSqlString?: unknown }).toSqlString === 'function') return path;
  if (depth > 32) return `${path} (nested too deep to check)`;
  const entries: [string, unknown][] = Array.isArray(value) || value instanceof Set
    ? [...value].map((v, i) => [`[${i}]`, v])
    : value instanceof Map
      ? [...value].map(([k, v]) => [`.get(${JSON.stringify(String(k))})`, v])
      : Object.entries(value).map(([k, v]) => [`.${k}`, v]);
  for (const [key, v] of entries) {
    const found = rawSqlIn(v, path + key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
