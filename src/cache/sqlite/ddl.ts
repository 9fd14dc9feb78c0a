// The cache file's tables: the bookkeeping tables, and the entity and join tables migrated to the schema.
import type { CompiledColumn, CompiledKey, CompiledSchema } from '../../core/schema.js';
import { quoteSqlite as q, type SqliteConnection } from '../../sqlite/connection.js';
import { CLEAR_OLD_CLAIMS_SQL } from './claims.js';
import { STORAGE } from './encoders.js';

/**
 * The version of the bookkeeping tables' layout. A file written in another layout has its marks, claims
 * and recorded queries dropped when opened (its rows stay; lookups go to the origin again): guessing what
 * an old mark meant could answer a key the origin never gave.
 * 1 (unrecorded): `key ANY` columns, which turned '007', '7.0' and ' 7' into 7 and big integers into reals.
 */
const FORMAT = '2';

/**
 * The tables the cache keeps for itself, whatever the schema. Keys are stored as they are bound, never
 * converted: a `BLOB` column has no affinity, so the text '007' stays text and is not the integer 7, and a
 * bigint (bound as its decimal text) stays exact. Every key is bound through `keysParam`.
 */
const BOOKKEEPING =
  'CREATE TABLE IF NOT EXISTS ever_loaded (kind TEXT NOT NULL, key BLOB NOT NULL, loaded_at INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;' +
  'CREATE TABLE IF NOT EXISTS adbv_fetching (kind TEXT NOT NULL, key BLOB NOT NULL, owner TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;' +
  'CREATE TABLE IF NOT EXISTS adbv_queries (kind TEXT NOT NULL, params TEXT NOT NULL, entity TEXT NOT NULL, sql TEXT NOT NULL, PRIMARY KEY (kind, params)) WITHOUT ROWID;' +
  'CREATE TABLE IF NOT EXISTS adbv_query_rows (kind TEXT NOT NULL, params TEXT NOT NULL, pos INTEGER NOT NULL, entity TEXT NOT NULL, key BLOB NOT NULL, PRIMARY KEY (kind, params, pos)) WITHOUT ROWID;' +
  'CREATE INDEX IF NOT EXISTS adbv_query_rows_key ON adbv_query_rows (entity, key);';

/** The bookkeeping tables of a layout other than {@link FORMAT}. */
const DROP_BOOKKEEPING = 'DROP TABLE IF EXISTS ever_loaded; DROP TABLE IF EXISTS adbv_fetching; DROP TABLE IF EXISTS adbv_query_rows; DROP TABLE IF EXISTS adbv_queries;';

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

/**
 * Creates missing tables; a table or relation whose definition changed since the file was written is
 * dropped with its completeness marks, so rows shaped for an old schema are never served.
 */
export async function migrate(db: SqliteConnection, schema: CompiledSchema): Promise<void> {
  const stored = new Map((await db.all<{ name: string; fingerprint: string }>('SELECT name, fingerprint FROM adbv_meta')).map((r) => [r.name, r.fingerprint]));
  let script = 'BEGIN IMMEDIATE;';
  const setMeta = (name: string, fp: string) => `INSERT OR REPLACE INTO adbv_meta VALUES (${sqlString(name)}, ${sqlString(fp)});`;
  for (const entity of schema.entities) {
    const fp = JSON.stringify({ table: entity.table, key: names(entity.key), columns: entity.columns.map((c) => [c.name, c.type]) });
    const name = `entity:${entity.name}`;
    const old = stored.get(name);
    if (old !== undefined && old !== fp) {
      script += `DROP TABLE IF EXISTS ${q(JSON.parse(old).table)}; DELETE FROM ever_loaded WHERE kind = ${sqlString(entity.name)};`;
      for (const dep of [...entity.dependents, ...entity.linkedBy]) script += `DELETE FROM ever_loaded WHERE kind = ${sqlString(dep.id)};`;
      script += `DELETE FROM ever_loaded WHERE (kind, key) IN (SELECT kind, params FROM adbv_queries WHERE entity = ${sqlString(entity.name)});`;
      script += `DELETE FROM adbv_query_rows WHERE entity = ${sqlString(entity.name)}; DELETE FROM adbv_queries WHERE entity = ${sqlString(entity.name)};`;
    }
    if (old !== fp) script += setMeta(name, fp);
    const cols = entity.columns.map((c) => `${q(c.name)} ${STORAGE[c.type]}${entity.key.columns.includes(c) ? ' NOT NULL' : ''}`);
    script += `CREATE TABLE IF NOT EXISTS ${q(entity.table)} (${cols.join(', ')}, PRIMARY KEY (${entity.key.columns.map((c) => q(c.name)).join(', ')}));`;
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
      script += ddl + `CREATE INDEX IF NOT EXISTS ${q(`${t.table}__${t.targetKey.name}`)} ON ${q(t.table)} (${q(t.targetKey.name)});`;
    }
  }
  for (const rel of schema.relations) {
    const fp = JSON.stringify([rel.kind, rel.target.name, names(rel.foreignKey), rel.orderBy.map((c) => c.name), rel.through ?? null]);
    const name = `relation:${rel.id}`;
    const old = stored.get(name);
    if (old !== undefined && old !== fp) script += `DELETE FROM ever_loaded WHERE kind = ${sqlString(rel.id)};`;
    if (old !== fp) script += setMeta(name, fp);
  }
  await db.exec(script + 'COMMIT;').catch(async (error) => {
    await db.exec('ROLLBACK').catch(() => undefined);
    throw error;
  });
}

function names(key: CompiledKey): string | string[] {
  return key.composite ? key.columns.map((c) => c.name) : (key.columns[0] as CompiledColumn).name;
}

/** A string literal for a DDL script (schema names only; values are bound everywhere else). */
function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
