// Writing origin answers into the cache: rows, the marks they back, and removal of what they contradict.
import type { MergeBatch } from '../../core/cache-store.js';
import type { KeyValue, Row } from '../../core/codec.js';
import type { CompiledEntity, CompiledRelation } from '../../core/schema.js';
import { inKeys, quoteSqlite as q, type SqliteConnection } from '../../sqlite/connection.js';
import { keysParam } from '../../sqlite/keys-param.js';
import { BackingTally, type Backing } from './backing.js';
import { claimsOf, kindKeysParam, RELEASE_SQL, type HeldClaims } from './claims.js';
import { encodeKey, encodeRows, encodeStampedRows } from './encoders.js';
import { notLocallyChanged, recordOriginAbsent } from './local-changes.js';
import type { Plans, TablePlan } from './plans.js';

/**
 * Marks keys of a kind (?1) complete as read at ?2, each with what it stands on (?3: `[key, n, sum]`
 * each); a mark from a later read stays as it is.
 */
const MARK_SQL =
  'INSERT INTO ever_loaded (kind, key, loaded_at, n, sum) SELECT ?1, value ->> 0, ?2, value ->> 1, value ->> 2 FROM json_each(?3) WHERE true ' +
  'ON CONFLICT (kind, key) DO UPDATE SET loaded_at = excluded.loaded_at, n = excluded.n, sum = excluded.sum ' +
  'WHERE excluded.loaded_at >= ever_loaded.loaded_at';
/** Records asked keys (?3: `[asked, key]` each) of kind ?1 as answered by the row `key`, read at ?2; a later alias stays. */
const ALIAS_SQL =
  'INSERT INTO adbv_alias (kind, asked, key, loaded_at) SELECT ?1, value ->> 0, value ->> 1, ?2 FROM json_each(?3) WHERE true ' +
  'ON CONFLICT (kind, asked) DO UPDATE SET key = excluded.key, loaded_at = excluded.loaded_at WHERE excluded.loaded_at >= adbv_alias.loaded_at';
const UNMARK_SQL = 'DELETE FROM ever_loaded WHERE kind = ? AND key IN (SELECT value FROM json_each(?))';
const SIBLING_MARKS_SQL =
  'SELECT kind, key, loaded_at FROM ever_loaded WHERE kind IN (SELECT value FROM json_each(?1)) AND key IN (SELECT value FROM json_each(?2))';
/**
 * Puts back marks read by SIBLING_MARKS_SQL (`[kind, key, loaded_at, n, sum]` each, standing on the group
 * now written) that the write took away.
 */
const RESTORE_MARKS_SQL =
  'INSERT INTO ever_loaded (kind, key, loaded_at, n, sum) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?) WHERE true ' +
  'ON CONFLICT (kind, key) DO UPDATE SET n = excluded.n, sum = excluded.sum';
const UNMARK_QUERIES_SQL =
  'DELETE FROM ever_loaded WHERE (kind, key) IN ' +
  '(SELECT kind, params FROM adbv_query_rows WHERE entity = ? AND key IN (SELECT value FROM json_each(?)))';
/** A custom query's recorded answer, unless a later read recorded it (?3: the stamp of this one). */
const LATER_QUERY = 'EXISTS (SELECT 1 FROM ever_loaded e WHERE e.kind = ?1 AND e.key = ?2 AND e.loaded_at > ?3)';

/** Marks like MARK_SQL, each key with its own stamp (?2: `[key, n, sum, loaded_at]` each). */
const MARK_STAMPED_SQL =
  'INSERT INTO ever_loaded (kind, key, loaded_at, n, sum) SELECT ?1, value ->> 0, value ->> 3, value ->> 1, value ->> 2 FROM json_each(?2) WHERE true ' +
  'ON CONFLICT (kind, key) DO UPDATE SET loaded_at = excluded.loaded_at, n = excluded.n, sum = excluded.sum ' +
  'WHERE excluded.loaded_at >= ever_loaded.loaded_at';

/**
 * A batch that only answers entity keys with the rows found (no key found absent, no alias, relation or
 * custom query): such batches of one entity can be written together by `applyEntityBatches`.
 */
export function plainEntityBatch(batch: MergeBatch): boolean {
  return batch.relation === undefined && batch.query === undefined && batch.entityKeys !== undefined &&
    (batch.absentKeys === undefined || batch.absentKeys.length === 0) && (batch.aliases === undefined || batch.aliases.length === 0);
}

/**
 * Applies plain entity batches of one entity (see `plainEntityBatch`), each read at its own moment, inside
 * the caller's transaction with two statements in all instead of two each: the rows in one upsert and the
 * marks in one insert, every row and mark with its own batch's stamp, so the outcome is the same as
 * applying them one by one (an older read never overwrites a newer one, whichever order they come in).
 */
export async function applyEntityBatches(db: SqliteConnection, plans: Plans, batches: readonly MergeBatch[]): Promise<void> {
  if (batches.length === 1) return applyBatch(db, plans, batches[0] as MergeBatch, undefined);
  const entity = (batches[0] as MergeBatch).entity;
  const plan = plans.table(entity);
  const withRows = batches.filter((b) => b.rows.length > 0);
  let unwritten: Set<Row> | undefined;
  if (withRows.length > 0) {
    const encoded = encodeStampedRows(withRows, plan.names, plan.encoders);
    const count = withRows.reduce((n, b) => n + b.rows.length, 0);
    const written = await db.run(plan.upsertStamped, [encoded]);
    if (written < count) {
      // Rows not in the table at all (kept out by a later read's mark): their keys are not marked.
      const all = withRows.flatMap((b) => b.rows);
      unwritten = new Set((await db.all<{ i: number }>(plan.unwritten.entity, [encoded, 0])).map((r) => all[r.i] as Row));
    }
  }
  const marks: unknown[] = [];
  for (const b of batches) {
    let keys = b.entityKeys as readonly KeyValue[];
    const present = new Set(b.rows.map((r) => encodeKey(entity.key.of(r))));
    if (unwritten !== undefined) {
      const at = b.rows.filter((r) => unwritten.has(r));
      if (at.length > 0) keys = without(keys, at.map(entity.key.of)) as KeyValue[];
    }
    for (const k of keys) {
      const encoded = encodeKey(k);
      marks.push([encoded, present.has(encoded) ? 1 : 0, null, b.loadedAt]);
    }
  }
  if (marks.length > 0) await db.run(MARK_STAMPED_SQL, [plan.kind, JSON.stringify(marks)]);
}

/** Whose fetch claims a merge gives up, and which of them the store may still hold. */
export interface Releasing {
  readonly owner: string;
  readonly held: HeldClaims;
}

/**
 * Applies one batch inside the caller's transaction. `releasing`, when given, is whose fetch claims the
 * batch's answer releases: only keys the store may still hold a claim on are released, so a store that
 * took none (alone on its file) sends no statement for them.
 *
 * An older read never overwrites a newer one: `loadedAt` is when this answer's read began. Rows, links
 * and marks the cache holds from a later read stay, and a key whose answer the later rows contradict (a
 * row of the group held under another parent, a row of the group from a later read not in this answer, an
 * entity recorded present later) is not marked complete by this answer.
 */
export async function applyBatch(db: SqliteConnection, plans: Plans, batch: MergeBatch, releasing: Releasing | undefined): Promise<void> {
  const { entity, rows, loadedAt, absentKeys, relation } = batch;
  const plan = plans.table(entity);
  let entityKeys = batch.entityKeys;
  if (absentKeys !== undefined && absentKeys.length > 0) {
    const held = await db.all<Row>(`${plan.selectForRemoval} WHERE ${inKeys(entity.key, 't')} AND ${notLocallyChanged(entity, 't')}`, [keysParam(entity.key, absentKeys, false)]);
    const { older, later } = byStamp(held, loadedAt);
    await removeRows(db, entity, plan, older, false);
    // Changed rows stay as the change has them; that the origin has none is recorded with the change.
    await recordOriginAbsent(db, entity, { absent: absentKeys }, loadedAt);
    // Present in a later read: this answer's "absent" is not marked.
    if (later.length > 0) entityKeys = without(entityKeys, later.map(entity.key.ofStored));
  }
  // What each relation key's answer stands on: its members.
  const tally = relation === undefined ? undefined : BackingTally.of(rows, relation.rel.through === undefined ? relation.rel.foreignKey.of : (r) => r.$src as KeyValue, entity.key, true);
  // Marks of relations over the same group as this complete answer stand: the group is what it says.
  let siblings: string | undefined;
  let relationKeys = relation?.unmarked === undefined || relation.unmarked.length === 0 ? relation?.keys : without(relation.keys, relation.unmarked);
  if (relation !== undefined && tally !== undefined && relation.keys.length > 0 && relation.rel.through === undefined) {
    const ids = plans.relation(relation.rel).siblings;
    if (ids.length > 0) {
      const marks = await db.all<{ kind: string; key: unknown; loaded_at: number }>(SIBLING_MARKS_SQL, [JSON.stringify(ids), keysParam(relation.rel.source.key, relation.keys, false)]);
      if (marks.length > 0) {
        siblings = JSON.stringify(marks.map((m) => {
          const b = tally.get(m.key);
          return [m.kind, m.key, m.loaded_at, b.n, b.sum];
        }));
      }
    }
  }
  if (relation !== undefined && relation.rel.through !== undefined) {
    const rp = plans.relation(relation.rel);
    const links = JSON.stringify(rows.map((r) => [encodeKey(r.$src), encodeKey(entity.key.of(r))]));
    await db.run(rp.unlink as string, [keysParam(relation.rel.source.key, relation.keys, false), links, relation.rel.id, loadedAt]);
    if (rows.length > 0) await db.run(rp.link as string, [null, links, relation.rel.id, loadedAt]);
  } else if (relation !== undefined) {
    const kept = rows.map(entity.key.of) as KeyValue[];
    const stale = await db.all<Row>(
      `${plan.selectForRemoval} WHERE ${inKeys(relation.rel.foreignKey, 't', '?1')} AND NOT ${inKeys(entity.key, 't', '?2')} AND ${notLocallyChanged(entity, 't')}`,
      [keysParam(relation.rel.foreignKey, relation.keys, false), keysParam(entity.key, kept, false)],
    );
    const { older, later } = byStamp(stale, loadedAt);
    await removeRows(db, entity, plan, older, true);
    // A row of the group from a later read that this answer lacks: the group is not this answer.
    if (later.length > 0) relationKeys = without(relationKeys, later.map(relation.rel.foreignKey.ofStored));
  }
  let queryWhole = true;
  if (rows.length > 0) {
    const encoded = encodeRows(rows, plan.names, plan.encoders);
    const written = await db.run(plan.upsert, [encoded, loadedAt]);
    if (written < rows.length) {
      // Some rows are held from a later read, or known by one not to be where this answer has them.
      const hasMany = relation !== undefined && relation.rel.through === undefined;
      const sql = batch.query !== undefined ? plan.unwritten.query : hasMany ? (plan.unwritten.relation.get(relation.rel.id) as string) : plan.unwritten.entity;
      const at = (await db.all<{ i: number }>(sql, [encoded, loadedAt])).map((r) => rows[r.i] as Row);
      if (at.length > 0) {
        queryWhole = false;
        if (hasMany) relationKeys = without(relationKeys, at.map(relation.rel.foreignKey.of));
        // manyToMany: a link to a target row the cache does not hold (a later read knows better) is no answer.
        else if (relation !== undefined) relationKeys = without(relationKeys, at.map((r) => r.$src as KeyValue));
        entityKeys = without(entityKeys, at.map(entity.key.of));
      }
    }
  }
  if (siblings !== undefined) await db.run(RESTORE_MARKS_SQL, [siblings]);
  if (entityKeys !== undefined && entityKeys.length > 0) {
    const present = new Set(rows.map((r) => encodeKey(entity.key.of(r))));
    let aliases = batch.aliases;
    if (aliases !== undefined && aliases.length > 0) {
      for (const [asked] of aliases) present.add(encodeKey(asked));
      // Only the aliases of keys this answer marks: the alias stands while its stamp is its mark's.
      const marked = new Set(entityKeys);
      aliases = aliases.filter(([asked]) => marked.has(asked));
      if (aliases.length > 0) await db.run(ALIAS_SQL, [plan.kind, loadedAt, JSON.stringify(aliases.map(([asked, key]) => [encodeKey(asked), encodeKey(key)]))]);
    }
    await db.run(MARK_SQL, [plan.kind, loadedAt, backed(entityKeys, (k) => ({ n: present.has(encodeKey(k)) ? 1 : 0, sum: null }))]);
  }
  if (relation !== undefined && tally !== undefined && relationKeys !== undefined && relationKeys.length > 0) {
    await db.run(MARK_SQL, [relation.rel.id, loadedAt, backed(relationKeys, (k) => tally.get(k))]);
  }
  if (releasing !== undefined) {
    for (const { kind, key, keys } of claimsOf(batch)) {
      const held = releasing.held.of(kind, keys);
      if (held.length > 0) await db.run(RELEASE_SQL, [kind, kindKeysParam(key, held), releasing.owner]);
    }
  }
  if (batch.query !== undefined && queryWhole) {
    const { kind, params, sql } = batch.query;
    // A later read's recorded answer stays whole: its rows are not replaced by this older one's.
    await db.run(`DELETE FROM adbv_query_rows WHERE kind = ?1 AND params = ?2 AND NOT ${LATER_QUERY}`, [kind, params, loadedAt]);
    if (rows.length > 0) {
      await db.run(
        `INSERT INTO adbv_query_rows (kind, params, pos, entity, key) SELECT ?1, ?2, key, ?4, value FROM json_each(?5) WHERE NOT ${LATER_QUERY}`,
        [kind, params, loadedAt, entity.name, keysParam(entity.key, rows.map(entity.key.of) as KeyValue[], false)],
      );
    }
    await db.run('INSERT OR REPLACE INTO adbv_queries (kind, params, entity, sql) VALUES (?, ?, ?, ?)', [kind, params, entity.name, sql]);
    const answer = BackingTally.of(rows, () => params, entity.key, false).get(params);
    await db.run(MARK_SQL, [kind, loadedAt, backed([params], () => answer)]);
  }
}

/** The `[key, n, sum]` list of MARK_SQL. */
function backed(keys: readonly KeyValue[], backing: (key: KeyValue) => Backing): string {
  return JSON.stringify(keys.map((k) => {
    const b = backing(k);
    return [encodeKey(k), b.n, b.sum];
  }));
}

/** Rows held (with `$read_at`) split into those read before `loadedAt` (or with it) and those read later. */
function byStamp(held: readonly Row[], loadedAt: number): { older: Row[]; later: Row[] } {
  const older: Row[] = [];
  const later: Row[] = [];
  for (const row of held) ((row.$read_at as number) > loadedAt ? later : older).push(row);
  return { older, later };
}

/** `keys` but those in `drop` (compared as stored: bigints as text). */
function without(keys: readonly KeyValue[] | undefined, drop: readonly (KeyValue | null)[]): KeyValue[] | undefined {
  if (keys === undefined) return undefined;
  const out = new Set(drop.map(encodeKey));
  return keys.filter((k) => !out.has(encodeKey(k)));
}

/**
 * Drops rows the origin no longer has where they were, and every mark that counted on them: the marks
 * of relations whose group held them and (for rows that may live on elsewhere) their own entity marks.
 */
export async function removeRows(db: SqliteConnection, entity: CompiledEntity, plan: TablePlan, gone: Row[], unmarkEntity: boolean): Promise<void> {
  if (gone.length === 0) return;
  for (const dep of entity.dependents) {
    const fks = gone.map(dep.foreignKey.ofStored).filter((v): v is KeyValue => v !== null);
    if (fks.length > 0) await db.run(UNMARK_SQL, [dep.id, keysParam(dep.foreignKey, fks, false)]);
  }
  const keys = keysParam(entity.key, gone.map(entity.key.ofStored) as KeyValue[], false);
  for (const rel of entity.linkedBy) {
    const t = rel.through as NonNullable<CompiledRelation['through']>;
    await db.run(
      `DELETE FROM ever_loaded WHERE kind = ? AND key IN (SELECT ${q(t.sourceKey.name)} FROM ${q(t.table)} WHERE ${q(t.targetKey.name)} IN (SELECT value FROM json_each(?)))`,
      [rel.id, keys],
    );
  }
  await db.run(UNMARK_QUERIES_SQL, [entity.name, keys]);
  if (unmarkEntity) await db.run(UNMARK_SQL, [plan.kind, keys]);
  await db.run(plan.deleteRows, [keys]);
}
