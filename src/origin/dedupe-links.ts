// One row per (source, target) link of a manyToMany read, as the cache's join table keeps it.
import type { Row } from '../core/codec.js';
import type { CompiledColumn, CompiledEntity } from '../core/schema.js';

/**
 * Drops repeated `($src, target key)` rows in place: a join table with the same link twice gives the
 * target once, as the cache (whose join table has that pair as primary key) gives it offline.
 * Rows are decoded already, so both values are canonical.
 * In a read of asked keys a link repeats only within one asked key (`$i`).
 */
export function dedupeLinks(rows: Row[], target: CompiledEntity): Row[] {
  if (rows.length < 2) return rows;
  const key = (target.key.columns[0] as CompiledColumn).name;
  const seen = new Set<string>();
  let kept = 0;
  for (const row of rows) {
    // A read of asked keys (`$i`) may give one link for each of two spellings that both match it.
    const id = `${String(row.$i)}\u0000${typeof row.$src}:${String(row.$src)}\u0000${typeof row[key]}:${String(row[key])}`;
    if (seen.has(id)) continue;
    seen.add(id);
    rows[kept++] = row;
  }
  rows.length = kept;
  return rows;
}
