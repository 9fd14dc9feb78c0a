// Checking a cache file: every completeness mark backed by the rows it stands for, and SQLite's integrity.
import type { VerifyReport } from '../../core/cache-store.js';
import type { CompiledColumn } from '../../core/schema.js';
import { keyEquals, quoteSqlite as q, type SqliteConnection } from '../../sqlite/connection.js';
import type { Plans } from './plans.js';

/** Checks the file through `db` against the schema of `plans`. */
export async function verifyCache(db: SqliteConnection, plans: Plans): Promise<VerifyReport> {
  const problems: string[] = [];
  const check = await db.all<{ quick_check: string }>('PRAGMA quick_check');
  for (const r of check) if (r.quick_check !== 'ok') problems.push(`integrity: ${r.quick_check}`);
  const [{ n: marks } = { n: 0 }] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM ever_loaded');
  const rows: Record<string, number> = {};
  const known = new Set<string>();
  for (const entity of plans.entities()) {
    known.add(entity.name);
    const [{ n } = { n: 0 }] = await db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM ${q(entity.table)}`);
    rows[entity.name] = n;
    const lost = await db.all<{ kind: string; params: string; key: unknown }>(
      `SELECT r.kind, r.params, r.key FROM adbv_query_rows r JOIN ever_loaded e ON e.kind = r.kind AND e.key = r.params ` +
        `LEFT JOIN ${q(entity.table)} t ON ${keyEquals(entity.key, 't', 'r.key')} ` +
        `WHERE r.entity = ? AND t.${q((entity.key.columns[0] as CompiledColumn).name)} IS NULL LIMIT 20`,
      [entity.name],
    );
    for (const l of lost) problems.push(`query ${l.kind.slice(2)} ${l.params} is marked complete but its ${entity.name} row ${String(l.key)} is missing`);
  }
  for (const rel of plans.relations()) {
    known.add(rel.id);
    const t = rel.through;
    if (t === undefined) continue;
    const lost = await db.all<{ key: unknown; target: unknown }>(
      `SELECT e.key AS key, j.${q(t.targetKey.name)} AS target FROM ever_loaded e JOIN ${q(t.table)} j ON j.${q(t.sourceKey.name)} = e.key ` +
        `LEFT JOIN ${q(rel.target.table)} x ON x.${q((rel.target.key.columns[0] as CompiledColumn).name)} = j.${q(t.targetKey.name)} ` +
        `WHERE e.kind = ? AND x.${q((rel.target.key.columns[0] as CompiledColumn).name)} IS NULL LIMIT 20`,
      [rel.id],
    );
    for (const l of lost) problems.push(`${rel.id} of ${String(l.key)} is marked complete but its ${rel.target.name} row ${String(l.target)} is missing`);
  }
  const kinds = await db.all<{ kind: string }>('SELECT DISTINCT kind FROM ever_loaded');
  for (const { kind } of kinds) {
    if (!known.has(kind) && !kind.startsWith('q:')) problems.push(`marks of ${JSON.stringify(kind)}, which the schema does not know`);
  }
  return { ok: problems.length === 0, problems, marks, rows };
}
