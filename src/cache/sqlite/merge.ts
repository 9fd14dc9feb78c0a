// Writing origin answers into the cache: rows, the marks they back, and removal of what they contradict.
import type { MergeBatch } from '../../core/cache-store.js';
import type { KeyValue, Row } from '../../core/codec.js';
import type { CompiledEntity, CompiledRelation } from '../../core/schema.js';
import { inKeys, quoteSqlite as q, type SqliteConnection } from '../../sqlite/connection.js';
import { keysParam } from '../../sqlite/keys-param.js';
import { RELEASE_SQL, type Claimant } from './claims.js';
import { encodeKey, encodeRows } from './encoders.js';
import type { Plans, TablePlan } from './plans.js';

const MARK_SQL =
  'INSERT INTO ever_loaded (kind, key, loaded_at) SELECT ?, value, ? FROM json_each(?) WHERE true ' +
  'ON CONFLICT (kind, key) DO UPDATE SET loaded_at = excluded.loaded_at';
const UNMARK_SQL = 'DELETE FROM ever_loaded WHERE kind = ? AND key IN (SELECT value FROM json_each(?))';
const UNMARK_QUERIES_SQL =
  'DELETE FROM ever_loaded WHERE (kind, key) IN ' +
  '(SELECT kind, params FROM adbv_query_rows WHERE entity = ? AND key IN (SELECT value FROM json_each(?)))';

/**
 * Applies one batch inside the caller's transaction. `claimant`, when given, is whose fetch claims the
 * batch's answer releases.
 */
export async function applyBatch(db: SqliteConnection, plans: Plans, batch: MergeBatch, claimant: Claimant | undefined): Promise<void> {
  const { entity, rows, loadedAt, entityKeys, absentKeys, relation } = batch;
  const plan = plans.table(entity);
  if (absentKeys !== undefined && absentKeys.length > 0) {
    const gone = await db.all<Row>(`${plan.selectForRemoval} WHERE ${inKeys(entity.key, 't')}`, [keysParam(entity.key, absentKeys, false)]);
    await removeRows(db, entity, plan, gone, false);
  }
  if (relation !== undefined && relation.rel.through !== undefined) {
    const rp = plans.relation(relation.rel);
    await db.run(rp.unlink as string, [keysParam(relation.rel.source.key, relation.keys, false)]);
    const links = rows.map((r) => [encodeKey(r.$src), encodeKey(entity.key.of(r))]);
    if (links.length > 0) await db.run(rp.link as string, [JSON.stringify(links)]);
  } else if (relation !== undefined) {
    const kept = rows.map(entity.key.of) as KeyValue[];
    const stale = await db.all<Row>(
      `${plan.selectForRemoval} WHERE ${inKeys(relation.rel.foreignKey, 't', '?1')} AND NOT ${inKeys(entity.key, 't', '?2')}`,
      [keysParam(relation.rel.foreignKey, relation.keys, false), keysParam(entity.key, kept, false)],
    );
    await removeRows(db, entity, plan, stale, true);
  }
  if (rows.length > 0) await db.run(plan.upsert, [encodeRows(rows, plan.names, plan.encoders)]);
  if (entityKeys !== undefined && entityKeys.length > 0) await db.run(MARK_SQL, [plan.kind, loadedAt, keysParam(entity.key, entityKeys, false)]);
  if (relation !== undefined && relation.keys.length > 0) {
    await db.run(MARK_SQL, [relation.rel.id, loadedAt, keysParam(relation.rel.source.key, relation.keys, false)]);
  }
  if (claimant !== undefined && batch.unclaimed !== true) {
    if (entityKeys !== undefined && entityKeys.length > 0) await db.run(RELEASE_SQL, [plan.kind, keysParam(entity.key, entityKeys, false), claimant.owner]);
    if (relation !== undefined) await db.run(RELEASE_SQL, [relation.rel.id, keysParam(relation.rel.source.key, relation.keys, false), claimant.owner]);
    if (batch.query !== undefined) await db.run(RELEASE_SQL, [batch.query.kind, JSON.stringify([batch.query.params]), claimant.owner]);
  }
  if (batch.query !== undefined) {
    const { kind, params, sql } = batch.query;
    await db.run('DELETE FROM adbv_query_rows WHERE kind = ? AND params = ?', [kind, params]);
    if (rows.length > 0) {
      await db.run(
        'INSERT INTO adbv_query_rows (kind, params, pos, entity, key) SELECT ?1, ?2, key, ?3, value FROM json_each(?4)',
        [kind, params, entity.name, keysParam(entity.key, rows.map(entity.key.of) as KeyValue[], false)],
      );
    }
    await db.run('INSERT OR REPLACE INTO adbv_queries (kind, params, entity, sql) VALUES (?, ?, ?, ?)', [kind, params, entity.name, sql]);
    await db.run(MARK_SQL, [kind, loadedAt, JSON.stringify([params])]);
  }
}

/**
 * Drops rows the origin no longer has where they were, and every mark that counted on them: the marks
 * of relations whose group held them and (for rows that may live on elsewhere) their own entity marks.
 */
async function removeRows(db: SqliteConnection, entity: CompiledEntity, plan: TablePlan, gone: Row[], unmarkEntity: boolean): Promise<void> {
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
