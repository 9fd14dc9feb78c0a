// The column metadata (mysql2 FieldPackets) of each result set, kept beside its rows.
import type { OriginField } from './column-compat.js';

/**
 * Weakly keyed by the rows array, so the statement path keeps returning plain rows (as `raw()` hands them
 * over) while the entity reads can still see what the origin said each column is.
 */
const FIELDS = new WeakMap<object, readonly OriginField[]>();

/**
 * Records the metadata mysql2 passed with `results`: one list for a single statement, or a list per
 * statement (an array of lists) for a multi-statement packet.
 */
export function rememberFields(results: unknown, fields: unknown, multi: boolean): void {
  if (!Array.isArray(results) || !Array.isArray(fields)) return;
  if (!multi) {
    FIELDS.set(results, fields as OriginField[]);
    return;
  }
  results.forEach((r, i) => {
    const f = fields[i] as unknown;
    if (Array.isArray(r) && Array.isArray(f)) FIELDS.set(r, f as OriginField[]);
  });
}

/** The metadata recorded for `rows`, if any. */
export function fieldsOf(rows: object): readonly OriginField[] | undefined {
  return FIELDS.get(rows);
}
