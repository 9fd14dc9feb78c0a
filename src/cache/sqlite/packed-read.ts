// Cache reads whose rows come back as one JSON text, parsed in JS, instead of one driver object per row.
import type { CompiledColumn } from '../../core/schema.js';
import type { Row } from '../../core/values.js';
import { quoteSqlite as q, type SqliteConnection } from '../../sqlite/connection.js';

/**
 * A read of many rows: its SQL, and the same rows packed by SQLite into one JSON array of arrays where
 * that is exact. node-sqlite3 builds every row's object cell by cell through N-API on the main thread;
 * `JSON.parse` of one text and a plain loop cost about half as much for 10,000 small rows.
 */
export interface RowsRead {
  readonly sql: string;
  /** `SELECT json_group_array(json_array(…))` over `sql`, and how one of its arrays of cells becomes a row. */
  readonly packed?: { readonly sql: string; readonly row: (cells: readonly unknown[]) => Row };
}

/**
 * Whether JSON carries every value of these columns exactly as the cache stores them: SQLite writes a
 * REAL with 15 significant digits (0.1 + 0.2 would read 0.3) and cannot hold a BLOB. INTEGER and TEXT
 * storage (integers, bigint and decimal as text, booleans, datetimes as ms, JSON text) come back as stored.
 */
export function packable(columns: readonly CompiledColumn[]): boolean {
  return columns.every((c) => c.type !== 'real' && c.type !== 'blob');
}

/**
 * `sql` as a `RowsRead`, packed when `exact` (see `packable`). `names` are its output columns, in order;
 * the rows keep the order `sql` gives them (its ORDER BY, if any, orders the subquery the packing reads;
 * callers that need an order check it, as relation answers do).
 */
export function rowsRead(sql: string, names: readonly string[], exact: boolean): RowsRead {
  if (!exact) return { sql };
  const cells = names.map((n) => `s.${q(n)}`).join(', ');
  return { sql, packed: { sql: `SELECT json_group_array(json_array(${cells})) AS j FROM (${sql}) s`, row: rowMaker(names) } };
}

/**
 * One row object from one packed array of cells: an object literal made for these names, so every row of
 * the read is born with its final shape (a third faster than adding the properties one by one, for 10,000
 * rows). Where code generation is not allowed (`--disallow-code-generation-from-strings`), or a name would
 * be read as the prototype, the properties are added one by one.
 */
function rowMaker(names: readonly string[]): (cells: readonly unknown[]) => Row {
  // One maker per list of names for the whole process: stores opened one after another share it (and
  // what the engine learned running it) instead of compiling another.
  const id = names.join('\u0000');
  let make = MAKERS.get(id);
  if (make === undefined) MAKERS.set(id, (make = newRowMaker(names)));
  return make;
}

/** The row makers made so far, by their names joined with NUL (no column name holds one). */
const MAKERS = new Map<string, (cells: readonly unknown[]) => Row>();

function newRowMaker(names: readonly string[]): (cells: readonly unknown[]) => Row {
  const oneByOne = (cells: readonly unknown[]): Row => {
    const row: Row = {};
    for (let c = 0; c < names.length; c++) row[names[c] as string] = cells[c];
    return row;
  };
  if (names.includes('__proto__')) return oneByOne;
  try {
    // The names are JSON string literals, which JavaScript reads as the same strings.
    return new Function('v', `return { ${names.map((n, c) => `${JSON.stringify(n)}: v[${c}]`).join(', ')} };`) as (cells: readonly unknown[]) => Row;
  } catch {
    return oneByOne;
  }
}

/** The rows of `read` with `params`: packed when it can be, as plain rows otherwise. */
export async function readRows(db: SqliteConnection, read: RowsRead, params: readonly unknown[]): Promise<Row[]> {
  const packed = read.packed;
  if (packed === undefined) return db.all<Row>(read.sql, params);
  const [result] = await db.all<{ j: string | null }>(packed.sql, params);
  const cells = JSON.parse(result?.j ?? '[]') as unknown[][];
  const make = packed.row;
  const rows: Row[] = new Array(cells.length);
  for (let i = 0; i < cells.length; i++) rows[i] = make(cells[i] as unknown[]);
  return rows;
}
