// The schema a cache file records of itself (its tables' and relations' fingerprints), for commands run without --schema.
import { existsSync } from 'node:fs';
import sqlite3 from 'sqlite3';
import { schemaFingerprints } from '../cache/sqlite/ddl.js';
import { belongsTo, defineSchema, entity, hasMany, hasOne, manyToMany, type EntityDef, type RelationDef, type Schema } from '../core/schema.js';
import { UsageError } from './usage-error.js';

type TableFingerprint = { entity?: unknown; key?: unknown; columns?: unknown };
type RelationFingerprint = [kind: string, target: string, foreignKey: string | string[], orderBy: string[], through: { table: string; sourceKey: { name: string }; targetKey: { name: string } } | null];

function all<T>(db: sqlite3.Database, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => db.all<T>(sql, [], (e, rows) => (e ? reject(e) : resolve(rows))));
}

/** The file's `adbv_meta` rows, read read-only; a file without them is not one whose schema can be read. */
async function readMeta(file: string): Promise<Map<string, string>> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (e) => (e ? reject(e) : resolve(d)));
  });
  try {
    return new Map((await all<{ name: string; fingerprint: string }>(db, 'SELECT name, fingerprint FROM adbv_meta')).map((r) => [r.name, r.fingerprint]));
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

/** One recorded relation as a definition, or undefined when its record cannot be one. */
function relationOf(fp: RelationFingerprint, target: EntityDef): RelationDef | undefined {
  const [kind, to, foreignKey, orderBy, through] = fp;
  const keys = typeof target.key === 'string' ? [target.key] : [...target.key];
  // The recorded order is the orderBy option's column (when it is not a key column) then the target's key.
  const first = orderBy[0];
  const options = first !== undefined && !keys.includes(first) ? { orderBy: first } : {};
  switch (kind) {
    case 'hasMany':
      return hasMany(to, foreignKey, options);
    case 'hasOne':
      return hasOne(to, foreignKey, options);
    case 'belongsTo':
      return belongsTo(to, foreignKey);
    case 'manyToMany':
      return through === null ? undefined : manyToMany(to, { through: through.table, sourceKey: through.sourceKey.name, targetKey: through.targetKey.name, ...options });
    default:
      return undefined;
  }
}

/**
 * The schema `file` was last opened with, as far as the file records it: each entity's table, key and
 * column types (every column but the key nullable: the file does not record which may be NULL) and its
 * relations. Enough to read and drop the file's local changes; rebuilt fingerprints must equal the
 * recorded ones, so opening the file with it changes nothing. Anything else is a `UsageError` asking for
 * `--schema`.
 */
export async function schemaFromCache(file: string): Promise<Schema<Record<string, EntityDef>>> {
  if (!existsSync(file)) throw new UsageError(`no such cache file: ${file}`);
  const cannot = (why: string): never => {
    throw new UsageError(`cannot read the schema from ${file} (${why}); pass the schema module with --schema FILE`);
  };
  let meta: Map<string, string>;
  try {
    meta = await readMeta(file);
  } catch (error) {
    return cannot(`it is not an asyncdbview cache: ${(error as Error).message}`);
  }
  const entities: Record<string, { table: string; key: string | string[]; columns: Record<string, string>; relations: Record<string, RelationDef> }> = {};
  for (const [name, text] of meta) {
    if (!name.startsWith('table:')) continue;
    const fp = JSON.parse(text) as TableFingerprint;
    if (typeof fp.entity !== 'string') continue; // a manyToMany's join table
    const key = fp.key as string | string[];
    const keys = typeof key === 'string' ? [key] : key;
    const columns = Object.fromEntries((fp.columns as [string, string][]).map(([c, type]) => [c, keys.includes(c) ? type : `${type}?`]));
    entities[fp.entity] = { table: name.slice('table:'.length), key, columns, relations: {} };
  }
  if (Object.keys(entities).length === 0) cannot('it records no entity table');
  for (const [name, text] of meta) {
    if (!name.startsWith('relation:')) continue;
    const id = name.slice('relation:'.length);
    const dot = id.indexOf('.');
    const source = entities[id.slice(0, dot)];
    const fp = JSON.parse(text) as RelationFingerprint;
    const target = entities[fp[1]];
    // A relation recorded for an entity the file no longer has is no one's now.
    if (dot < 0 || source === undefined || target === undefined) continue;
    const rel = relationOf(fp, target as unknown as EntityDef);
    if (rel === undefined) cannot(`relation ${id} is recorded as ${text}`);
    source.relations[id.slice(dot + 1)] = rel as RelationDef;
  }
  let schema: Schema<Record<string, EntityDef>>;
  try {
    schema = defineSchema(Object.fromEntries(Object.entries(entities).map(([n, e]) => [n, entity(e as never)]))) as Schema<Record<string, EntityDef>>;
  } catch (error) {
    return cannot((error as Error).message);
  }
  // Opened with a schema whose fingerprints differ, the file would be migrated: never for a read.
  for (const [name, fp] of schemaFingerprints(schema.compiled).fingerprints) {
    if (meta.get(name) !== fp) cannot(`${name} does not read back as recorded`);
  }
  return schema;
}
