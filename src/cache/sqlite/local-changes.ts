// Local changes in the cache file: the adbv_local table, its writes, and the triggers that keep local rows over origin writes.
import type { LocalChangeKind, LocalChangeSet, LocalWrite, StoredLocalChange } from '../../core/local/local-change.js';
import { DECODERS, type KeyValue, type Row } from '../../core/codec.js';
import type { CompiledColumn, CompiledEntity, CompiledKey } from '../../core/schema.js';
import { keyEquals, quoteSqlite as q, type SqliteConnection } from '../../sqlite/connection.js';
import { keysParam } from '../../sqlite/keys-param.js';
import { DECODED, encodeRows, READ_AT } from './encoders.js';
import type { Plans } from './plans.js';

/**
 * One row per changed row: its kind, its whole local version, the origin row it was made against (`base`)
 * and the latest origin row a load brought since (`origin`), each as the JSON array an upsert takes
 * (`'null'`: absent at the origin; SQL NULL: not known). `applying` is 1 only inside the transaction that
 * writes the entity table for the change itself, so the triggers tell those writes from the origin's.
 * `shape` is the entity's columns when the change was made: a change is applied only to a table of that shape.
 */
export const LOCAL_TABLE_SQL =
  'CREATE TABLE IF NOT EXISTS adbv_local (entity TEXT NOT NULL, key BLOB NOT NULL, kind TEXT NOT NULL, columns TEXT, ' +
  'local TEXT, base TEXT, origin TEXT, shape TEXT NOT NULL, seq INTEGER NOT NULL, changed_at INTEGER NOT NULL, ' +
  'applying INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (entity, key)) WITHOUT ROWID;';

/** The version of the file's local changes: one more at every local write or discard, by any process. */
const BUMP_SQL =
  "INSERT INTO adbv_meta (name, fingerprint) VALUES ('local-version', '1') " +
  'ON CONFLICT (name) DO UPDATE SET fingerprint = CAST(fingerprint AS INTEGER) + 1 RETURNING CAST(fingerprint AS INTEGER) AS v';
const VERSION_SQL = "SELECT CAST(fingerprint AS INTEGER) AS v FROM adbv_meta WHERE name = 'local-version'";

/** What the file's entity table of `entity` looks like: a change is applied only to a table of its shape. */
export function shapeOf(entity: CompiledEntity): string {
  return JSON.stringify([entity.table, entity.columns.map((c) => [c.name, c.type])]);
}

/** A string literal for trigger DDL (schema names only; values are bound everywhere else). */
function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** The key of row `r` (NEW or OLD in a trigger) as `ever_loaded` and `adbv_local` store keys. */
function storedKeyExpr(key: CompiledKey, r: string): string {
  if (!key.composite) return `${r}.${q((key.columns[0] as CompiledColumn).name)}`;
  return `json_array(${key.columns.map((c) => `${r}.${q(c.name)}`).join(', ')})`;
}

/**
 * SQL true for rows (`alias`) of `entity` without a local change: an origin answer that leaves a changed
 * row out (moved away, gone) does not remove it or the marks it stands under; the change keeps it as it is.
 */
export function notLocallyChanged(entity: CompiledEntity, alias: string): string {
  return `NOT EXISTS (SELECT 1 FROM adbv_local l WHERE l.entity = ${lit(entity.name)} AND l.key = ${storedKeyExpr(entity.key, alias)})`;
}

/**
 * The triggers that keep an entity table showing its local changes whatever the origin's answers write:
 * an origin row written over a changed row is recorded as the change's `origin` and the local version put
 * back (or the row deleted again, for a remove); a changed row an origin answer deletes (moved away, gone)
 * is put back. Made when an entity gets its first local change; they cost the merge nothing before.
 */
export function localTriggers(entity: CompiledEntity): string {
  const t = q(entity.table);
  const name = lit(entity.name);
  const cols = entity.columns;
  const change = (r: string) => `adbv_local l WHERE l.entity = ${name} AND l.key = ${storedKeyExpr(entity.key, r)}`;
  const enc = `json_array(${cols.map((c) => (c.type === 'blob' ? `CASE WHEN NEW.${q(c.name)} IS NULL THEN NULL ELSE hex(NEW.${q(c.name)}) END` : `NEW.${q(c.name)}`)).join(', ')})`;
  const local = cols.map((c, i) => (c.type === 'blob' ? `unhex(l.local ->> ${i})` : `l.local ->> ${i}`)).join(', ');
  const names = cols.map((c) => q(c.name)).join(', ');
  const setApplying = (r: string, v: number) => `UPDATE adbv_local SET applying = ${v} WHERE entity = ${name} AND key = ${storedKeyExpr(entity.key, r)};`;
  const keyIs = (r: string) => entity.key.columns.map((c) => `${q(c.name)} = ${r}.${q(c.name)}`).join(' AND ');
  const onWrite = (event: 'INSERT' | 'UPDATE') =>
    `CREATE TRIGGER IF NOT EXISTS ${q(`adbv_local_${event === 'INSERT' ? 'i' : 'u'}__${entity.table}`)} AFTER ${event} ON ${t} ` +
    `WHEN EXISTS (SELECT 1 FROM ${change('NEW')} AND l.applying = 0) BEGIN ` +
    `UPDATE adbv_local SET origin = ${enc}, applying = 1 WHERE entity = ${name} AND key = ${storedKeyExpr(entity.key, 'NEW')};` +
    // A new origin row of a changed row is news for every store's copy of the changes (conflicts, local: false).
    `UPDATE adbv_meta SET fingerprint = CAST(fingerprint AS INTEGER) + 1 WHERE name = 'local-version';` +
    `DELETE FROM ${t} WHERE ${keyIs('NEW')} AND EXISTS (SELECT 1 FROM ${change('NEW')} AND l.kind = 'remove');` +
    `UPDATE ${t} SET (${names}) = (SELECT ${local} FROM ${change('NEW')}) WHERE ${keyIs('NEW')} AND EXISTS (SELECT 1 FROM ${change('NEW')} AND l.kind <> 'remove');` +
    `${setApplying('NEW', 0)} END;`;
  const onDelete =
    `CREATE TRIGGER IF NOT EXISTS ${q(`adbv_local_d__${entity.table}`)} AFTER DELETE ON ${t} ` +
    `WHEN EXISTS (SELECT 1 FROM ${change('OLD')} AND l.applying = 0 AND l.kind <> 'remove') BEGIN ` +
    `${setApplying('OLD', 1)}` +
    `INSERT INTO ${t} (${names}, ${q(READ_AT)}) SELECT ${local}, OLD.${q(READ_AT)} FROM ${change('OLD')};` +
    `${setApplying('OLD', 0)} END;`;
  return onWrite('INSERT') + onWrite('UPDATE') + onDelete;
}

/**
 * Records that the origin no longer has (or never had) changed rows of `entity`, as an origin answer read
 * at `loadedAt` says (inside the caller's transaction): their change's `origin` becomes `'null'`, so a
 * change made against a row the origin has since deleted is in conflict (a remove included). `absent`:
 * the keys an entity lookup found absent; `{ besides }`: every changed key but those a whole-table read
 * answered. A changed row whose table row is from a later read keeps what it has (an older answer never
 * overrides a newer one). Bumps the local-change version when it records anything.
 */
export async function recordOriginAbsent(
  db: SqliteConnection, entity: CompiledEntity, keys: { readonly absent: readonly KeyValue[] } | { readonly besides: readonly KeyValue[] }, loadedAt: number,
): Promise<void> {
  const which = 'absent' in keys ? 'key IN (SELECT value FROM json_each(?2))' : 'key NOT IN (SELECT value FROM json_each(?2))';
  const list = 'absent' in keys ? keys.absent : keys.besides;
  if ('absent' in keys && list.length === 0) return;
  const recorded = await db.run(
    `UPDATE adbv_local AS l SET origin = 'null' WHERE entity = ?1 AND ${which} AND origin IS NOT 'null' ` +
      `AND NOT EXISTS (SELECT 1 FROM ${q(entity.table)} t WHERE ${storedKeyExpr(entity.key, 't')} = l.key AND t.${q(READ_AT)} > ?3)`,
    [entity.name, keysParam(entity.key, list, false), loadedAt],
  );
  if (recorded > 0) await db.all(BUMP_SQL);
}

/** On open, before the schema's migration: makes the table (its first commit on a new file). */
export async function createLocalTable(db: SqliteConnection): Promise<void> {
  await db.exec(LOCAL_TABLE_SQL);
}

/**
 * On open, after the schema's migration: for each entity with local changes of its current shape, its
 * triggers and its local rows in its table again (a table the migration dropped comes back empty).
 * Changes made against another shape stay in the file, unapplied, and `verify()` reports them.
 * Returns whether the file holds any local change.
 */
export async function openLocal(db: SqliteConnection, plans: Plans): Promise<boolean> {
  const held = await db.all<{ entity: string; shape: string }>('SELECT DISTINCT entity, shape FROM adbv_local');
  if (held.length === 0) return false;
  await db.run('BEGIN IMMEDIATE');
  try {
    for (const entity of plans.entities()) {
      if (!held.some((h) => h.entity === entity.name && h.shape === shapeOf(entity))) continue;
      await db.exec(localTriggers(entity));
      await applyHeld(db, plans, entity);
    }
    await db.run('COMMIT');
  } catch (error) {
    await db.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return true;
}

/** Writes every held change of `entity` into its table (inside the caller's transaction). */
async function applyHeld(db: SqliteConnection, plans: Plans, entity: CompiledEntity): Promise<void> {
  const plan = plans.table(entity);
  const where = `entity = ? AND shape = ?`;
  await db.run(`UPDATE adbv_local SET applying = 1 WHERE ${where}`, [entity.name, shapeOf(entity)]);
  const rows = await db.all<{ local: string }>(`SELECT local FROM adbv_local WHERE ${where} AND kind <> 'remove'`, [entity.name, shapeOf(entity)]);
  if (rows.length > 0) await db.run(plan.upsert, [`[${rows.map((r) => r.local).join(',')}]`, Date.now()]);
  await db.run(
    `DELETE FROM ${q(entity.table)} AS t WHERE EXISTS (SELECT 1 FROM adbv_local l WHERE l.entity = ? AND l.kind = 'remove' AND l.key = ${storedKeyExpr(entity.key, 't')})`,
    [entity.name],
  );
  await db.run(`UPDATE adbv_local SET applying = 0 WHERE ${where}`, [entity.name, shapeOf(entity)]);
}

/** One row's JSON array as the upsert takes it. */
function encodeRow(plans: Plans, entity: CompiledEntity, row: Row | null | undefined): string | null {
  if (row === undefined) return null;
  if (row === null) return 'null';
  const plan = plans.table(entity);
  return encodeRows([row], plan.names, plan.encoders).slice(1, -1);
}

/**
 * Writes one local change and its row (inside the caller's transaction): the change recorded (keeping the
 * first change's base), then the entity table made to show it. Completeness marks are not touched. A remove
 * of a row that exists only locally leaves no change behind.
 */
export async function writeLocal(db: SqliteConnection, plans: Plans, write: LocalWrite): Promise<void> {
  const entity = entityIn(plans, write.entity) as CompiledEntity;
  const plan = plans.table(entity);
  const keyParam = keysParam(entity.key, [write.key], false);
  const keyExpr = '(SELECT value FROM json_each(?))';
  await db.exec(localTriggers(entity));
  const [{ v } = { v: 0 }] = await db.all<{ v: number }>(BUMP_SQL);
  await db.run(
    `INSERT INTO adbv_local (entity, key, kind, columns, local, base, origin, shape, seq, changed_at, applying) ` +
      `VALUES (?1, ${keyExpr.replace('?', '?2')}, ?3, ?4, ?5, ?6, NULL, ?7, ?8, ?9, 1) ` +
      `ON CONFLICT (entity, key) DO UPDATE SET kind = CASE WHEN excluded.kind = 'patch' AND kind = 'put' THEN 'put' ELSE excluded.kind END, ` +
      `columns = CASE WHEN excluded.kind = 'patch' AND kind = 'patch' THEN (SELECT json_group_array(value) FROM (SELECT value FROM json_each(columns) UNION SELECT value FROM json_each(excluded.columns))) ELSE excluded.columns END, ` +
      `local = excluded.local, shape = excluded.shape, seq = excluded.seq, changed_at = excluded.changed_at, applying = 1`,
    [
      entity.name, keyParam, write.kind, write.columns === undefined ? null : JSON.stringify(write.columns),
      encodeRow(plans, entity, write.row), encodeRow(plans, entity, write.base), shapeOf(entity), v, Date.now(),
    ],
  );
  if (write.kind === 'remove') await db.run(plan.deleteRows, [keyParam]);
  else await db.run(plan.upsert, [encodeRows([write.row as Row], plan.names, plan.encoders), Date.now()]);
  // A row that exists only here, removed: nothing is left to tell the origin.
  await db.run(`DELETE FROM adbv_local WHERE entity = ? AND key = ${keyExpr} AND kind = 'remove' AND base = 'null'`, [entity.name, keyParam]);
  await db.run(`UPDATE adbv_local SET applying = 0 WHERE entity = ? AND key = ${keyExpr}`, [entity.name, keyParam]);
}

/** The version of the file's local changes (0 before the first). One statement. */
export async function localVersion(db: SqliteConnection): Promise<number> {
  const [row] = await db.all<{ v: number }>(VERSION_SQL);
  return row?.v ?? 0;
}

interface RawChange {
  entity: string;
  key: unknown;
  kind: LocalChangeKind;
  columns: string | null;
  local: string | null;
  base: string | null;
  origin: string | null;
  shape: string;
  seq: number;
  changed_at: number;
}

/**
 * Every local change of an entity of the schema, in the order made, and the version they are at least. Changes made against another shape of their table are left out (verify reports them).
 */
export async function listLocal(db: SqliteConnection, plans: Plans): Promise<LocalChangeSet> {
  // The version first: changes written in between make the set newer than its version, never older.
  const version = await localVersion(db);
  const raw = await db.all<RawChange>('SELECT entity, key, kind, columns, local, base, origin, shape, seq, changed_at FROM adbv_local ORDER BY seq');
  const changes: StoredLocalChange[] = [];
  for (const r of raw) {
    const entity = entityIn(plans, r.entity);
    if (entity === undefined || r.shape !== shapeOf(entity)) continue;
    changes.push({
      entity: r.entity,
      key: keyFromStored(entity, r.key),
      kind: r.kind,
      columns: r.columns === null ? undefined : (JSON.parse(r.columns) as string[]),
      local: decodeStored(entity, r.local) ?? null,
      base: decodeStored(entity, r.base),
      origin: decodeStored(entity, r.origin),
      seq: r.seq,
      changedAt: r.changed_at,
    });
  }
  return { version, changes };
}

/** The entity of the schema named `name`, if any. */
function entityIn(plans: Plans, name: string): CompiledEntity | undefined {
  for (const e of plans.entities()) if (e.name === name) return e;
  return undefined;
}

/** A key as `adbv_local` stores it, made canonical. */
function keyFromStored(entity: CompiledEntity, stored: unknown): KeyValue {
  if (entity.key.composite) return stored as string;
  const col = entity.key.columns[0] as CompiledColumn;
  return entity.key.ofStored({ [col.name]: stored }) as KeyValue;
}

/** A stored row array back to a row of canonical values (`'null'` → null, SQL NULL → undefined). */
export function decodeStored(entity: CompiledEntity, text: string | null): Row | null | undefined {
  if (text === null) return undefined;
  const arr = JSON.parse(text) as unknown[] | null;
  if (arr === null) return null;
  const row: Row = {};
  entity.columns.forEach((c, i) => {
    const v = arr[i] ?? null;
    row[c.name] = v === null ? null : c.type === 'blob' ? Buffer.from(String(v), 'hex') : DECODED.has(c.type) ? (DECODERS[c.type] as (x: unknown) => unknown)(v) : v;
  });
  return row;
}

/**
 * Drops local changes (all, or those of `targets`) inside the caller's transaction, and puts the origin's
 * version back where it is known (the latest an origin load brought, else the one the change was made
 * against). The marks of every lookup whose answer the row could be part of are dropped, since the origin
 * row put back may be older than them: those lookups go to the origin again. Returns how many were dropped.
 */
export async function discardLocal(db: SqliteConnection, plans: Plans, targets: readonly { entity: string; key: KeyValue }[] | undefined): Promise<number> {
  const raw = await db.all<RawChange>('SELECT entity, key, kind, local, base, origin, shape FROM adbv_local');
  const wanted = targets === undefined ? undefined : new Set(targets.map((t) => `${t.entity}\u0000${typeof t.key === 'bigint' ? `${t.key}n` : JSON.stringify(t.key)}`));
  const byEntity = new Map<CompiledEntity | string, RawChange[]>();
  for (const r of raw) {
    const entity = entityIn(plans, r.entity);
    if (wanted !== undefined) {
      if (entity === undefined) continue;
      const k = keyFromStored(entity, r.key);
      if (!wanted.has(`${r.entity}\u0000${typeof k === 'bigint' ? `${k}n` : JSON.stringify(k)}`)) continue;
    }
    const slot = entity !== undefined && r.shape === shapeOf(entity) ? entity : r.entity;
    const list = byEntity.get(slot);
    if (list === undefined) byEntity.set(slot, [r]);
    else list.push(r);
  }
  let dropped = 0;
  for (const [entity, changes] of byEntity) {
    const stored = JSON.stringify(changes.map((c) => c.key));
    await db.run('DELETE FROM adbv_local WHERE entity = ? AND key IN (SELECT value FROM json_each(?))', [typeof entity === 'string' ? entity : entity.name, stored]);
    dropped += changes.length;
    if (typeof entity === 'string') continue; // unapplied (another shape): nothing in the table to undo
    const plan = plans.table(entity);
    const keys = changes.map((c) => keyFromStored(entity, c.key));
    const keyParam = keysParam(entity.key, keys, false);
    const back = changes.map((c) => c.origin ?? c.base).filter((r): r is string => r !== null && r !== 'null');
    // Rows seen by the dropped changes (local and origin versions): their lookups are asked again.
    const seen = changes.flatMap((c) => [c.local, c.base, c.origin]).map((t) => decodeStored(entity, t ?? null)).filter((r): r is Row => r !== null && r !== undefined);
    await db.run(plan.deleteRows, [keyParam]);
    if (back.length > 0) await db.run(plan.upsert, [`[${back.join(',')}]`, Date.now()]);
    await unmarkAround(db, entity, keys, seen);
  }
  if (dropped > 0) await db.all(BUMP_SQL);
  return dropped;
}

/** Drops the marks a row of `entity` with one of `keys` (versions `rows`) may stand under. */
async function unmarkAround(db: SqliteConnection, entity: CompiledEntity, keys: readonly KeyValue[], rows: readonly Row[]): Promise<void> {
  const unmark = 'DELETE FROM ever_loaded WHERE kind = ? AND key IN (SELECT value FROM json_each(?))';
  const keyParam = keysParam(entity.key, keys, false);
  await db.run(unmark, [entity.name, keyParam]);
  await db.run(`DELETE FROM ever_loaded WHERE kind = ?`, [`${entity.name}.*`]);
  for (const dep of entity.dependents) {
    const fks = rows.map(dep.foreignKey.of).filter((v): v is KeyValue => v !== null);
    if (fks.length > 0) await db.run(unmark, [dep.id, keysParam(dep.foreignKey, fks, false)]);
  }
  for (const rel of entity.linkedBy) {
    const t = rel.through as NonNullable<typeof rel.through>;
    await db.run(
      `DELETE FROM ever_loaded WHERE kind = ? AND key IN (SELECT ${q(t.sourceKey.name)} FROM ${q(t.table)} WHERE ${q(t.targetKey.name)} IN (SELECT value FROM json_each(?)))`,
      [rel.id, keyParam],
    );
  }
  await db.run(
    'DELETE FROM ever_loaded WHERE (kind, key) IN (SELECT kind, params FROM adbv_query_rows WHERE entity = ? AND key IN (SELECT value FROM json_each(?)))',
    [entity.name, keyParam],
  );
}

/** Problems with local changes for `verify()`: changes made against another table shape, local rows missing from their table. */
export async function verifyLocal(db: SqliteConnection, plans: Plans): Promise<string[]> {
  const problems: string[] = [];
  const raw = await db.all<RawChange>('SELECT entity, key, kind, shape FROM adbv_local');
  for (const r of raw) {
    const entity = entityIn(plans, r.entity);
    if (entity === undefined) problems.push(`local change of ${JSON.stringify(r.entity)} ${String(r.key)}, an entity the schema does not know (kept, not applied)`);
    else if (r.shape !== shapeOf(entity)) problems.push(`local change of ${r.entity} ${String(r.key)} was made when its table had other columns (kept, not applied)`);
  }
  for (const entity of plans.entities()) {
    const bad = await db.all<{ key: unknown; kind: string }>(
      `SELECT l.key, l.kind FROM adbv_local l LEFT JOIN ${q(entity.table)} t ON ${keyEquals(entity.key, 't', 'l.key')} ` +
        `WHERE l.entity = ? AND l.shape = ? AND ((l.kind = 'remove') <> (t.${q((entity.key.columns[0] as CompiledColumn).name)} IS NULL)) LIMIT 20`,
      [entity.name, shapeOf(entity)],
    );
    for (const b of bad) problems.push(`local ${b.kind} of ${entity.name} ${String(b.key)} is not what its table shows`);
  }
  return problems;
}
