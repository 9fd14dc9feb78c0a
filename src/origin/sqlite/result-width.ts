// How many columns a SQLite statement returns, which node-sqlite3 does not say (it hands rows as objects).
import type { SqliteConnection } from '../../sqlite/connection.js';

/**
 * The number of result columns of `sql` (its first statement), from the program SQLite compiles for it:
 * `EXPLAIN` lists it without running it, and its `ResultRow` instruction outputs P2 registers, one per
 * result column (every arm of a compound SELECT has the same count). Undefined when no `ResultRow` is
 * listed (a statement that returns no rows, or an EXPLAIN format this code does not know).
 *
 * node-sqlite3 exposes no column names or count (sqlite3_column_count is not bound), and it builds each row
 * as an object, so two columns of one name collapse into one key: comparing this count with the row's
 * keys is how a duplicate is seen at all.
 */
export async function resultWidth(db: SqliteConnection, sql: string): Promise<number | undefined> {
  const program = await db.all<{ opcode: string; p2: number }>(`EXPLAIN ${sql}`, []);
  let width: number | undefined;
  for (const op of program) if (op.opcode === 'ResultRow') width = Math.max(width ?? 0, op.p2);
  return width;
}

/**
 * The column names SQLite gives `sql`'s duplicates when it is a subquery (`name`, then `name:1`, ...), to
 * name them in the error; undefined when that cannot be run. Only called once a duplicate is known.
 */
export async function duplicateNames(db: SqliteConnection, sql: string, params: readonly unknown[]): Promise<string[] | undefined> {
  try {
    const [row] = await db.all<Record<string, unknown>>(`SELECT * FROM (${sql.replace(/;\s*$/, '')}\n) LIMIT 1`, params);
    if (row === undefined) return undefined;
    const keys = Object.keys(row);
    const names = new Set(keys);
    const dup = new Set<string>();
    for (const k of keys) {
      const m = /^(.*):\d+$/.exec(k);
      if (m !== null && names.has(m[1] as string)) dup.add(m[1] as string);
    }
    return [...dup];
  } catch {
    return undefined;
  }
}
