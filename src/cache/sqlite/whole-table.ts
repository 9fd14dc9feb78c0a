// Whole tables (`view.X.all()`): the one mark saying the cache holds every origin row of an entity, read and written.
import type { KeyValue, Row } from '../../core/codec.js';
import { decodeRows } from '../../core/codec.js';
import type { CompiledEntity } from '../../core/schema.js';
import { quoteSqlite as q, type SqliteConnection } from '../../sqlite/connection.js';
import { recordOriginAbsent, shapeOf } from './local-changes.js';
import { applyBatch } from './merge.js';
import type { Plans } from './plans.js';

/**
 * The mark of a whole table: kind `Entity.*`, keyed by the table's shape, so a table the schema's
 * migration rebuilt (empty) is never taken for the whole table.
 */
export function allKind(entity: CompiledEntity): string {
  return `${entity.name}.*`;
}

/**
 * The triggers that drop the whole-table mark when any write but a local change's own alters the
 * table: a row the origin added, changed or removed since the whole table was read makes the recorded
 * answer one of two states. Made with the first whole-table read.
 */
function allTriggers(entity: CompiledEntity): string {
  const t = q(entity.table);
  const name = `'${entity.name.replaceAll("'", "''")}'`;
  const kind = `'${allKind(entity).replaceAll("'", "''")}'`;
  const key = (r: string) => (entity.key.composite ? `json_array(${entity.key.columns.map((c) => `${r}.${q(c.name)}`).join(', ')})` : `${r}.${q((entity.key.columns[0] as { name: string }).name)}`);
  const notLocal = (r: string) => `NOT EXISTS (SELECT 1 FROM adbv_local l WHERE l.entity = ${name} AND l.key = ${key(r)} AND l.applying = 1)`;
  const drop = `DELETE FROM ever_loaded WHERE kind = ${kind};`;
  const same = entity.columns.map((c) => `OLD.${q(c.name)} IS NEW.${q(c.name)}`).join(' AND ');
  return (
    `CREATE TRIGGER IF NOT EXISTS ${q(`adbv_all_i__${entity.table}`)} AFTER INSERT ON ${t} WHEN ${notLocal('NEW')} BEGIN ${drop} END;` +
    `CREATE TRIGGER IF NOT EXISTS ${q(`adbv_all_u__${entity.table}`)} AFTER UPDATE ON ${t} WHEN NOT (${same}) AND ${notLocal('NEW')} BEGIN ${drop} END;` +
    `CREATE TRIGGER IF NOT EXISTS ${q(`adbv_all_d__${entity.table}`)} AFTER DELETE ON ${t} WHEN ${notLocal('OLD')} BEGIN ${drop} END;`
  );
}

/** One statement: every row of `entity` in key order if the whole table is recorded complete (at or after `notBefore`), else undefined. */
export async function readAll(db: SqliteConnection, plans: Plans, entity: CompiledEntity, notBefore: number | undefined): Promise<Row[] | undefined> {
  const plan = plans.table(entity);
  const order = entity.key.columns.map((c) => `t.${q(c.name)}`).join(', ');
  const raw = await db.all<Row>(
    `SELECT ${entity.columns.map((c) => `t.${q(c.name)}`).join(', ')} FROM (SELECT 1 FROM ever_loaded WHERE kind = ? AND key = ? AND loaded_at >= ?) e ` +
      `LEFT JOIN ${q(entity.table)} t ON true ORDER BY ${order}`,
    [allKind(entity), shapeOf(entity), notBefore ?? -1],
  );
  if (raw.length === 0) return undefined;
  const first = (entity.key.columns[0] as { name: string }).name;
  const rows = raw.length === 1 && (raw[0] as Row)[first] === null ? [] : raw;
  decodeRows(rows, plan.decode);
  return rows;
}

/**
 * Writes the origin's whole table in one transaction (inside the caller's): its rows in chunks of
 * `chunk` (each row's entity lookup complete), the rows the cache held that the origin no longer has
 * removed (with the marks that counted on them), and the whole-table mark.
 */
export async function mergeAll(
  db: SqliteConnection, plans: Plans, entity: CompiledEntity, rows: readonly Row[], loadedAt: number, chunk: number,
): Promise<void> {
  await db.exec(allTriggers(entity));
  const keyOf = entity.key.of;
  const keys = rows.map(keyOf) as KeyValue[];
  const held = await db.all<Row>(`SELECT ${entity.key.columns.map((c) => q(c.name)).join(', ')} FROM ${q(entity.table)}`);
  const answered = new Set(keys);
  const gone = held.map(entity.key.ofStored).filter((k): k is KeyValue => k !== null && !answered.has(k));
  if (gone.length > 0) await applyBatch(db, plans, { entity, rows: [], loadedAt, entityKeys: gone, absentKeys: gone, unclaimed: true }, undefined);
  for (let i = 0; i < rows.length; i += chunk) {
    await applyBatch(db, plans, { entity, rows: rows.slice(i, i + chunk), loadedAt, entityKeys: keys.slice(i, i + chunk), absentKeys: [], unclaimed: true }, undefined);
  }
  // A changed row the whole table lacks (a local remove leaves none in the table to find gone): absent at the origin.
  await recordOriginAbsent(db, entity, { besides: keys }, loadedAt);
  await db.run(
    'INSERT INTO ever_loaded (kind, key, loaded_at) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET loaded_at = excluded.loaded_at',
    [allKind(entity), shapeOf(entity), loadedAt],
  );
}
