// The cache file's tables: the bookkeeping tables, and the entity and join tables migrated to the schema.
import { SchemaError } from '../../core/errors.js';
import type { CompiledColumn, CompiledKey, CompiledSchema } from '../../core/schema.js';
import { quoteSqlite as q, type SqliteConnection } from '../../sqlite/connection.js';
import { CLEAR_OLD_CLAIMS_SQL } from './claims.js';
import { READ_AT, STORAGE } from './encoders.js';
import { triggersScript } from './triggers.js';
import { registerUser } from './users.js';

/**
 * The version of the bookkeeping tables' layout. A file written in another layout has its marks, claims
 * and recorded queries dropped when opened (its rows stay; lookups go to the origin again): guessing what
 * an old mark meant could answer a key the origin never gave.
 * 1 (unrecorded): `key ANY` columns, which turned '007', '7.0' and ' 7' into 7 and big integers into reals.
 * 2: keys exact. 3: each mark records what it stands on (`n`, `sum`).
 */
const FORMAT = '3';

/**
 * The tables the cache keeps for itself, whatever the schema. Keys are stored as they are bound, never
 * converted: a `BLOB` column has no affinity, so the text '007' stays text and is not the integer 7, and a
 * bigint (bound as its decimal text) stays exact. Every key is bound through `keysParam`.
 */
const BOOKKEEPING =
  // n, sum: what the mark stands on (backing.ts): present (1) or absent (0) for an entity key; how many
  // rows, and a checksum of their keys, for a relation key or a custom query.
  'CREATE TABLE IF NOT EXISTS ever_loaded (kind TEXT NOT NULL, key BLOB NOT NULL, loaded_at INTEGER NOT NULL, n INTEGER, sum INTEGER, PRIMARY KEY (kind, key)) WITHOUT ROWID;' +
  'CREATE TABLE IF NOT EXISTS adbv_fetching (kind TEXT NOT NULL, key BLOB NOT NULL, owner TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;' +
  'CREATE TABLE IF NOT EXISTS adbv_queries (kind TEXT NOT NULL, params TEXT NOT NULL, entity TEXT NOT NULL, sql TEXT NOT NULL, PRIMARY KEY (kind, params)) WITHOUT ROWID;' +
  'CREATE TABLE IF NOT EXISTS adbv_query_rows (kind TEXT NOT NULL, params TEXT NOT NULL, pos INTEGER NOT NULL, entity TEXT NOT NULL, key BLOB NOT NULL, PRIMARY KEY (kind, params, pos)) WITHOUT ROWID;' +
  'CREATE INDEX IF NOT EXISTS adbv_query_rows_key ON adbv_query_rows (entity, key);' +
  // An asked key the origin matched to a row of another spelling ('ABC' to 'abc' under a case-insensitive
  // collation): valid while its stamp is its mark's (a later answer for the key restamps the mark).
  'CREATE TABLE IF NOT EXISTS adbv_alias (kind TEXT NOT NULL, asked BLOB NOT NULL, key BLOB NOT NULL, loaded_at INTEGER NOT NULL, PRIMARY KEY (kind, asked)) WITHOUT ROWID;' +
  'CREATE INDEX IF NOT EXISTS adbv_alias_key ON adbv_alias (kind, key);' +
  // The stores that have the file open, with their schema's fingerprints (users.ts).
  'CREATE TABLE IF NOT EXISTS adbv_users (owner TEXT PRIMARY KEY, pid INTEGER NOT NULL, fingerprints TEXT NOT NULL) WITHOUT ROWID;';

/** The bookkeeping tables of a layout other than {@link FORMAT}. */
const DROP_BOOKKEEPING = 'DROP TABLE IF EXISTS ever_loaded; DROP TABLE IF EXISTS adbv_fetching; DROP TABLE IF EXISTS adbv_query_rows; DROP TABLE IF EXISTS adbv_queries; DROP TABLE IF EXISTS adbv_users; DROP TABLE IF EXISTS adbv_alias;';

/**
 * Creates the bookkeeping tables the file lacks (dropping those of another layout first) and drops claims
 * no process of this version honours, in one transaction.
 */
export async function createBookkeeping(db: SqliteConnection): Promise<void> {
  await db.exec('BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS adbv_meta (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL) WITHOUT ROWID;');
  try {
    const [format] = await db.all<{ fingerprint: string }>("SELECT fingerprint FROM adbv_meta WHERE name = 'format'");
    const upgrade = format?.fingerprint === FORMAT ? '' : `${DROP_BOOKKEEPING}INSERT OR REPLACE INTO adbv_meta VALUES ('format', ${sqlString(FORMAT)});`;
    await db.exec(`${upgrade}${BOOKKEEPING}${CLEAR_OLD_CLAIMS_SQL}COMMIT;`);
  } catch (error) {
    await db.exec('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The fingerprints of a schema's tables (`table:<name>`, entity and join tables) and relations (`relation:<id>`). */
export function schemaFingerprints(schema: CompiledSchema): { fingerprints: Map<string, string>; shapes: Map<string, string>; names: Map<string, string> } {
  const fingerprints = new Map<string, string>();
  /** What two processes must agree on: a table's shape (not the entity name it goes by), a relation's definition. */
  const shapes = new Map<string, string>();
  const names = new Map<string, string>();
  for (const entity of schema.entities) {
    const shape = { key: keyNames(entity.key), columns: entity.columns.map((c) => [c.name, c.type]) };
    fingerprints.set(`table:${entity.table}`, JSON.stringify({ entity: entity.name, ...shape }));
    shapes.set(`table:${entity.table}`, JSON.stringify(shape));
    names.set(`table:${entity.table}`, entity.name);
  }
  for (const rel of schema.relations) {
    const t = rel.through;
    if (t !== undefined && !fingerprints.has(`table:${t.table}`)) {
      const join = JSON.stringify({ join: [t.sourceKey, t.targetKey].sort((x, y) => (x.name < y.name ? -1 : 1)).map((c) => [c.name, c.type]) });
      fingerprints.set(`table:${t.table}`, join);
      shapes.set(`table:${t.table}`, join);
      names.set(`table:${t.table}`, rel.id);
    }
    const fp = JSON.stringify([rel.kind, rel.target.name, keyNames(rel.foreignKey), rel.orderBy.map((c) => c.name), rel.through ?? null]);
    fingerprints.set(`relation:${rel.id}`, fp);
    shapes.set(`relation:${rel.id}`, fp);
    names.set(`relation:${rel.id}`, rel.id);
  }
  return { fingerprints, shapes, names };
}

/**
 * Creates missing tables, after registering this store among the file's users (`user`: a file other
 * processes may open) — refused with a SchemaError when a running process defines a table or relation
 * differently. Fingerprints are kept by table: a table whose definition changed since the file was written
 * (or that the file holds with no record of how it was written) is dropped with every mark that counted on
 * it, so rows shaped for an old schema are never served; an entity renamed over the same table keeps its
 * rows and loses the old name's marks. Returns how many other stores of running processes have the file open;
 * `locked` runs inside the transaction, once they have been counted.
 */
export async function migrate(
  db: SqliteConnection, schema: CompiledSchema, user: { owner: string; pid: number; file: string } | undefined, locked?: () => void,
): Promise<number> {
  const tables = [...schema.entities.map((e) => [e.name, e.table]), ...schema.relations.flatMap((r) => (r.through === undefined ? [] : [[r.id, r.through.table]]))];
  for (const [who, table] of tables) {
    if ((table as string).startsWith('adbv_')) throw new SchemaError(`${who}: table "${table}": table names starting with adbv_ are reserved for the cache`);
  }
  for (const entity of schema.entities) {
    for (const c of entity.columns) {
      if (c.name.startsWith('_adbv_')) throw new SchemaError(`${entity.name}.columns.${c.name}: column names starting with _adbv_ are reserved for the cache (${READ_AT})`);
    }
  }
  const fps = schemaFingerprints(schema);
  // Read and written in one transaction, so two processes opening the file at once migrate it once.
  await db.exec('BEGIN IMMEDIATE');
  try {
    const others = user === undefined ? 0 : await registerUser(db, { owner: user.owner, pid: user.pid, fingerprints: fps.shapes, names: fps.names }, user.file);
    locked?.();
    await db.exec(await migrationScript(db, schema, fps.fingerprints));
    return others;
  } catch (error) {
    await db.exec('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function migrationScript(db: SqliteConnection, schema: CompiledSchema, fingerprints: ReadonlyMap<string, string>): Promise<string> {
  const stored = new Map((await db.all<{ name: string; fingerprint: string }>('SELECT name, fingerprint FROM adbv_meta')).map((r) => [r.name, r.fingerprint]));
  const existing = new Set((await db.all<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'")).map((r) => r.name));
  // Files written before fingerprints were kept by table kept them by entity name: read those as by table.
  for (const [name, fp] of stored) {
    if (!name.startsWith('entity:')) continue;
    const { table, ...shape } = JSON.parse(fp) as { table: string; key: unknown; columns: unknown };
    if (!stored.has(`table:${table}`)) stored.set(`table:${table}`, JSON.stringify({ entity: name.slice(7), ...shape }));
  }
  // Entity tables written before rows carried their read stamp get the column (stamp 0: older than any read).
  const unstamped = await db.all<{ name: string }>(
    "SELECT m.name FROM sqlite_schema m WHERE m.type = 'table' AND m.name IN (SELECT value FROM json_each(?)) " +
      'AND NOT EXISTS (SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = ?)',
    [JSON.stringify(schema.entities.map((e) => e.table)), READ_AT],
  );
  let script = "DELETE FROM adbv_meta WHERE name GLOB 'entity:*';";
  for (const { name } of unstamped) script += `ALTER TABLE ${q(name)} ADD COLUMN ${q(READ_AT)} INTEGER NOT NULL DEFAULT 0;`;
  const setMeta = (name: string, fp: string) => `INSERT OR REPLACE INTO adbv_meta VALUES (${sqlString(name)}, ${sqlString(fp)});`;
  /** Relation ids the file's records say read an entity's rows (as their target), under that entity's name. */
  const storedRelationsOver = (entityName: string) =>
    [...stored].filter(([n, fp]) => n.startsWith('relation:') && (JSON.parse(fp) as unknown[])[1] === entityName).map(([n]) => n.slice(9));
  /** Drops the marks of an entity name: its own, its relations', those of relations over it, its queries'. */
  const unmarkEntity = (entityName: string, over: readonly string[]) => {
    let sql = `DELETE FROM ever_loaded WHERE kind = ${sqlString(entityName)} OR kind GLOB ${sqlString(`${globEscape(entityName)}.*`)};`;
    for (const id of new Set([...over, ...storedRelationsOver(entityName)])) sql += `DELETE FROM ever_loaded WHERE kind = ${sqlString(id)};`;
    sql += `DELETE FROM ever_loaded WHERE (kind, key) IN (SELECT kind, params FROM adbv_queries WHERE entity = ${sqlString(entityName)});`;
    sql += `DELETE FROM adbv_query_rows WHERE entity = ${sqlString(entityName)}; DELETE FROM adbv_queries WHERE entity = ${sqlString(entityName)};`;
    return sql;
  };
  for (const entity of schema.entities) {
    const name = `table:${entity.table}`;
    const fp = fingerprints.get(name) as string;
    const old = stored.get(name);
    const over = [...entity.dependents, ...entity.linkedBy].map((r) => r.id);
    if (old === undefined) {
      // A table the file holds with no record of how it was written: not to be trusted.
      if (existing.has(entity.table)) script += `DROP TABLE ${q(entity.table)};${unmarkEntity(entity.name, over)}`;
    } else if (old !== fp) {
      const was = JSON.parse(old) as { entity: string; key: unknown; columns: unknown };
      const now = JSON.parse(fp) as { entity: string; key: unknown; columns: unknown };
      if (JSON.stringify([was.key, was.columns]) !== JSON.stringify([now.key, now.columns])) {
        script += `DROP TABLE IF EXISTS ${q(entity.table)};${unmarkEntity(entity.name, over)}`;
      }
      // Renamed (or dropped above): what was recorded under the old name is no one's now.
      if (was.entity !== entity.name) script += unmarkEntity(was.entity, []);
    }
    if (old !== fp) script += setMeta(name, fp);
    const cols = entity.columns.map((c) => `${q(c.name)} ${STORAGE[c.type]}${entity.key.columns.includes(c) ? ' NOT NULL' : ''}`);
    script += `CREATE TABLE IF NOT EXISTS ${q(entity.table)} (${cols.join(', ')}, ${q(READ_AT)} INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (${entity.key.columns.map((c) => q(c.name)).join(', ')}));`;
    for (const dep of entity.dependents) {
      const idx = [...new Set([...dep.foreignKey.columns, ...dep.orderBy])].map((c) => q(c.name)).join(', ');
      script += `CREATE INDEX IF NOT EXISTS ${q(`${entity.table}__${dep.source.name}_${dep.name}`)} ON ${q(entity.table)} (${idx});`;
    }
  }
  const throughs = new Map<string, string>();
  for (const rel of schema.relations) {
    const t = rel.through;
    if (t === undefined) continue;
    const cols = [t.sourceKey, t.targetKey].sort((x, y) => (x.name < y.name ? -1 : 1));
    const ddl = `CREATE TABLE IF NOT EXISTS ${q(t.table)} (${cols.map((c) => `${q(c.name)} ${STORAGE[c.type]} NOT NULL`).join(', ')}, PRIMARY KEY (${q(t.sourceKey.name)}, ${q(t.targetKey.name)}));`;
    const known = throughs.get(t.table);
    if (known !== undefined && known !== ddl.replace(/PRIMARY KEY .*$/, '')) {
      throw new Error(`join table "${t.table}" is declared with different columns by two relations (${rel.id})`);
    }
    if (known === undefined) {
      throughs.set(t.table, ddl.replace(/PRIMARY KEY .*$/, ''));
      const name = `table:${t.table}`;
      const fp = fingerprints.get(name) as string;
      const old = stored.get(name);
      if (old !== fp && (old !== undefined || existing.has(t.table))) {
        // Links written for other columns: dropped with the marks of every relation over them.
        const over = schema.relations.filter((r) => r.through?.table === t.table).map((r) => r.id);
        const before = [...stored].filter(([n, f]) => n.startsWith('relation:') && (JSON.parse(f) as { table?: string }[])[4]?.table === t.table).map(([n]) => n.slice(9));
        script += `DROP TABLE IF EXISTS ${q(t.table)};`;
        for (const id of new Set([...over, ...before])) script += `DELETE FROM ever_loaded WHERE kind = ${sqlString(id)};`;
      }
      if (old !== fp) script += setMeta(name, fp);
      script += ddl + `CREATE INDEX IF NOT EXISTS ${q(`${t.table}__${t.targetKey.name}`)} ON ${q(t.table)} (${q(t.targetKey.name)});`;
    }
  }
  for (const rel of schema.relations) {
    const name = `relation:${rel.id}`;
    const fp = fingerprints.get(name) as string;
    const old = stored.get(name);
    if (old !== undefined && old !== fp) script += `DELETE FROM ever_loaded WHERE kind = ${sqlString(rel.id)};`;
    if (old !== fp) script += setMeta(name, fp);
  }
  return script + triggersScript(schema) + 'COMMIT;';
}

/** `s` matched literally by GLOB (its `*`, `?` and `[` escaped as one-character classes). */
function globEscape(s: string): string {
  return s.replace(/[*?[]/g, (c) => `[${c}]`);
}

function keyNames(key: CompiledKey): string | string[] {
  return key.composite ? key.columns.map((c) => c.name) : (key.columns[0] as CompiledColumn).name;
}

/** A string literal for a DDL script (schema names only; values are bound everywhere else). */
function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
