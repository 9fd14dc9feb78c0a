// Checking a cache file: every completeness mark backed by exactly what it recorded, and SQLite's integrity.
import type { KeyValue, Row } from '../../core/codec.js';
import type { CompiledColumn, CompiledEntity, CompiledRelation } from '../../core/schema.js';
import { keyEquals, quoteSqlite as q, type SqliteConnection } from '../../sqlite/connection.js';
import { verifyLocal } from './local-changes.js';
import { BackingTally } from './backing.js';
import { READ_AT } from './encoders.js';
import type { Plans } from './plans.js';

/** What verify found: problems, and the marks among them that stand on nothing (to drop on repair). */
export interface Findings {
  readonly problems: string[];
  /** `[kind, key]` of each mark not backed by what it recorded. */
  readonly unbacked: [string, unknown][];
  /** Rows read before a mark that records their key absent: the later read says they are gone. */
  readonly stale: { readonly entity: CompiledEntity; readonly key: unknown }[];
  /** Problems that are not a mark (integrity, unreadable tables): repair cannot mend them. */
  readonly unrepairable: number;
  readonly marks: number;
  readonly rows: Record<string, number>;
}

/** Drops the marks of a JSON list of `[kind, key]`. */
export const DROP_MARKS_SQL = 'DELETE FROM ever_loaded WHERE (kind, key) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))';

/**
 * Checks the file through `db` against the schema of `plans`: SQLite's quick_check, then every mark
 * against what it recorded it stands on — an entity key present (its row is held) or absent (no row
 * read before the mark), a relation key's or custom query's rows (how many, and a checksum of their keys).
 * A check that cannot read the file (damage) is a problem, not a throw.
 */
export async function verifyCache(db: SqliteConnection, plans: Plans): Promise<Findings> {
  const problems: string[] = [];
  const unbacked: [string, unknown][] = [];
  const stale: { entity: CompiledEntity; key: unknown }[] = [];
  let unrepairable = 0;
  const fail = (what: string, error: unknown) => {
    problems.push(`cannot check ${what}: ${(error as Error).message}`);
    unrepairable++;
  };
  const mark = (kind: string, key: unknown, problem: string) => {
    problems.push(problem);
    unbacked.push([kind, key]);
  };
  try {
    for (const r of await db.all<{ quick_check: string }>('PRAGMA quick_check')) {
      if (r.quick_check !== 'ok') {
        problems.push(`integrity: ${r.quick_check}`);
        unrepairable++;
      }
    }
  } catch (error) {
    fail('integrity', error);
  }
  let marks = 0;
  try {
    [{ n: marks } = { n: 0 }] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM ever_loaded');
  } catch (error) {
    fail('ever_loaded', error);
  }
  const rows: Record<string, number> = {};
  const known = new Set<string>();
  for (const entity of plans.entities()) {
    known.add(entity.name);
    known.add(`${entity.name}.*`); // the whole table (whole-table.ts)
    try {
      [{ n: rows[entity.name] = 0 } = { n: 0 }] = await db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM ${q(entity.table)}`);
      for (const m of await entityMarks(db, entity)) {
        const what = m.n === null ? 'records nothing it stands on' : m.n === 1 ? 'is marked present but its row is missing' : 'is marked absent but the file holds an older row for it';
        mark(entity.name, m.key, `${entity.name} ${String(m.key)} ${what}`);
        if (m.n === 0) stale.push({ entity, key: m.key });
      }
    } catch (error) {
      fail(`${entity.name} (table ${entity.table})`, error);
    }
  }
  for (const rel of plans.relations()) {
    known.add(rel.id);
    try {
      // The file shows local changes in place of the origin's rows: groups of such a target are checked
      // against their changes by verifyLocal, not against the origin's count.
      if ((await db.all('SELECT 1 FROM adbv_local WHERE entity = ? LIMIT 1', [rel.target.name])).length > 0) continue;
      const held = await heldGroups(db, rel);
      for (const m of await db.all<{ key: unknown; n: number | null; sum: number | null }>('SELECT key, n, sum FROM ever_loaded WHERE kind = ?', [rel.id])) {
        const b = held.get(m.key);
        if (m.n === b.n && m.sum === b.sum) continue;
        const what = m.n !== b.n ? `with ${m.n ?? 'unrecorded'} rows, but the file holds ${b.n}` : 'but the rows the file holds are not the ones recorded';
        mark(rel.id, m.key, `${rel.id} of ${rel.source.name} ${String(m.key)} is marked complete ${what}`);
      }
    } catch (error) {
      fail(rel.id, error);
    }
  }
  try {
    for (const m of await queryMarks(db, plans)) mark(m.kind, m.key, m.problem);
  } catch (error) {
    fail('custom queries', error);
  }
  try {
    for (const { kind } of await db.all<{ kind: string }>('SELECT DISTINCT kind FROM ever_loaded')) {
      if (known.has(kind) || kind.startsWith('q:')) continue;
      problems.push(`marks of ${JSON.stringify(kind)}, which the schema does not know`);
      for (const { key } of await db.all<{ key: unknown }>('SELECT key FROM ever_loaded WHERE kind = ?', [kind])) unbacked.push([kind, key]);
    }
  } catch (error) {
    fail('kinds', error);
  }
  try {
    // Local changes the file cannot apply, or rows that do not show them: not marks, so repair cannot mend them.
    const local = await verifyLocal(db, plans);
    problems.push(...local);
    unrepairable += local.length;
  } catch (error) {
    fail('local changes', error);
  }
  return { problems, unbacked, stale, unrepairable, marks, rows };
}

/** Entity marks their rows contradict: present without a row, absent with a row read before the mark, or no record. */
function entityMarks(db: SqliteConnection, entity: CompiledEntity): Promise<{ key: unknown; n: number | null }[]> {
  const first = `t.${q((entity.key.columns[0] as CompiledColumn).name)}`;
  return db.all(
    // A key answered by a row of another spelling stands on that row (its alias, stamped as the mark).
    'SELECT e.key, e.n FROM ever_loaded e LEFT JOIN adbv_alias a ON a.kind = e.kind AND a.asked = e.key AND a.loaded_at = e.loaded_at ' +
      `LEFT JOIN ${q(entity.table)} t ON ${keyEquals(entity.key, 't', 'COALESCE(a.key, e.key)')} ` +
      `WHERE e.kind = ? AND (e.n IS NULL OR (e.n = 1 AND ${first} IS NULL) OR (e.n = 0 AND ${first} IS NOT NULL AND t.${q(READ_AT)} < e.loaded_at)) ` +
      // A row with a local change shows the local version (or none): its mark stands on the origin's answer.
      'AND NOT EXISTS (SELECT 1 FROM adbv_local l WHERE l.entity = ? AND l.key = e.key)',
    [entity.name, entity.name],
  );
}

/** What the file holds for every key of a relation: the target rows by foreign key, or the linked target rows. */
async function heldGroups(db: SqliteConnection, rel: CompiledRelation): Promise<BackingTally> {
  const target = rel.target;
  const tally = new BackingTally();
  const t = rel.through;
  if (t === undefined) {
    const cols = [...new Set([...rel.foreignKey.columns, ...target.key.columns])].map((c) => q(c.name)).join(', ');
    for (const row of await db.all<Row>(`SELECT ${cols} FROM ${q(target.table)}`)) {
      const group = rel.foreignKey.ofStored(row);
      if (group !== null) tally.add(group, target.key.ofStored(row) as KeyValue);
    }
    return tally;
  }
  const targetKey = q((target.key.columns[0] as CompiledColumn).name);
  const links = await db.all<{ s: KeyValue; m: KeyValue }>(
    `SELECT j.${q(t.sourceKey.name)} AS s, x.${targetKey} AS m FROM ${q(t.table)} j JOIN ${q(target.table)} x ON x.${targetKey} = j.${q(t.targetKey.name)}`,
  );
  for (const l of links) tally.add(l.s, l.m);
  return tally;
}

/** Custom-query marks whose recorded rows are not all held, or not the rows recorded. */
async function queryMarks(db: SqliteConnection, plans: Plans): Promise<{ kind: string; key: unknown; problem: string }[]> {
  const out: { kind: string; key: unknown; problem: string }[] = [];
  const entities = new Map([...plans.entities()].map((e) => [e.name, e]));
  const recorded = await db.all<{ kind: string; params: string; entity: string; n: number | null; sum: number | null }>(
    "SELECT e.kind, e.key AS params, q.entity, e.n, e.sum FROM ever_loaded e LEFT JOIN adbv_queries q ON q.kind = e.kind AND q.params = e.key WHERE e.kind GLOB 'q:*'",
  );
  const byEntity = new Map<string, typeof recorded>();
  for (const r of recorded) {
    const entity = r.entity === null ? undefined : entities.get(r.entity);
    if (entity === undefined) {
      out.push({ kind: r.kind, key: r.params, problem: `query ${r.kind.slice(2)} ${r.params} is marked complete but ${r.entity === null ? 'records no query' : `its entity ${r.entity} is not in the schema`}` });
      continue;
    }
    byEntity.set(entity.name, [...(byEntity.get(entity.name) ?? []), r]);
  }
  for (const [name, marks] of byEntity) {
    const entity = entities.get(name) as CompiledEntity;
    // Rows shown with their local changes (a removed one is not held): checked by verifyLocal instead.
    if ((await db.all('SELECT 1 FROM adbv_local WHERE entity = ? LIMIT 1', [name])).length > 0) continue;
    const first = `t.${q((entity.key.columns[0] as CompiledColumn).name)}`;
    const held = await db.all<{ kind: string; params: string; key: KeyValue; missing: number }>(
      `SELECT r.kind, r.params, r.key, ${first} IS NULL AS missing FROM adbv_query_rows r LEFT JOIN ${q(entity.table)} t ON ${keyEquals(entity.key, 't', 'r.key')} WHERE r.entity = ?`,
      [name],
    );
    const tally = new BackingTally();
    const missing = new Map<string, unknown>();
    for (const h of held) {
      const id = JSON.stringify([h.kind, h.params]);
      if (h.missing) missing.set(id, h.key);
      else tally.add(id, h.key);
    }
    for (const m of marks) {
      const id = JSON.stringify([m.kind, m.params]);
      const b = tally.get(id);
      const lost = missing.get(id);
      if (lost !== undefined) out.push({ kind: m.kind, key: m.params, problem: `query ${m.kind.slice(2)} ${m.params} is marked complete but its ${name} row ${String(lost)} is missing` });
      else if (m.n !== b.n || m.sum !== b.sum) out.push({ kind: m.kind, key: m.params, problem: `query ${m.kind.slice(2)} ${m.params} is marked complete with ${m.n ?? 'unrecorded'} rows, but the file holds ${b.n} recorded` });
    }
  }
  return out;
}
