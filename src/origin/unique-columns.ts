// Refuses a custom query whose result names a column twice: the driver keeps one value per name.

/**
 * Throws a TypeError naming every column name `names` holds more than once (a `SELECT *` over a JOIN of
 * two tables with a `name` column): the row object keeps only the last one, so the entity would be cached
 * with the other table's value.
 */
export function assertUniqueColumns(names: readonly string[], where: string): void {
  if (names.length < 2) return;
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const n of names) (seen.has(n) ? twice : seen).add(n);
  if (twice.size === 0) return;
  const list = [...twice].map((n) => JSON.stringify(n)).join(', ');
  throw new TypeError(
    `${where}: the result has duplicate column name${twice.size === 1 ? '' : 's'} ${list} (of ${names.length} columns); ` +
      'select each column once, e.g. c.* plus aliased columns of the joined table',
  );
}
