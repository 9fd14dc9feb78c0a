// The SQL text of each entity table and relation of a schema, built once when the cache opens.
import { DECODERS, planDecode, type DecodePlan, type Decoder } from '../../core/codec.js';
import { compareExactly, type CompiledColumn, type CompiledEntity, type CompiledKey, type CompiledRelation, type CompiledSchema } from '../../core/schema.js';
import { inKeys, keyEquals, quoteSqlite as q } from '../../sqlite/connection.js';
import { DECODED, ENCODERS, READ_AT, type Encoder } from './encoders.js';
import { packable, rowsRead, type RowsRead } from './packed-read.js';

/** Per-entity SQL and codecs. */
export interface TablePlan {
  readonly kind: string;
  readonly decode: DecodePlan;
  /**
   * The rows and absent marks of keys ?1 (kind ?2). For an entity whose keys may match another spelling
   * (`aliased`), a key whose mark stands on an alias (`adbv_alias`, stamped as the mark) reads the row it
   * names, with the asked key as `$asked`; an alias whose row is gone answers nothing.
   */
  readonly readEntities: RowsRead;
  /** Whether keys may alias rows of another spelling: single-column keys that are not compared exactly. */
  readonly aliased: boolean;
  /** As readEntities, counting only rows whose entity mark is recent enough (?3). */
  readonly readEntitiesFresh: RowsRead;
  readonly readQuery: string;
  /**
   * Writes rows (?1, encoded) read at ?2, except where the cache knows newer: a row read later, the key
   * recorded (absent or present) by a later read, or a group of a dependent relation recorded complete by
   * a later read (which did not have the row). Changes one row per row given unless it skipped some.
   */
  readonly upsert: string;
  /** The upsert of rows each read at its own moment: ?1 as for `upsert`, each row's stamp after its columns. */
  readonly upsertStamped: string;
  /**
   * The positions in ?1 of rows the upsert at ?2 did not store as given and that contradict: `entity`: not
   * in the table at all; `query`: or held from a later read that differs in a column; `relation` (by
   * dependent relation id): or held from a later read under another foreign key.
   */
  readonly unwritten: { readonly entity: string; readonly query: string; readonly relation: ReadonlyMap<string, string> };
  readonly encoders: readonly (Encoder | undefined)[];
  readonly names: readonly string[];
  /** Selects the key, every dependent foreign key and the read stamp (`$read_at`) of rows; the WHERE is appended per use. */
  readonly selectForRemoval: string;
  readonly deleteRows: string;
}

/** Per-relation SQL. */
export interface RelationPlan {
  /**
   * hasMany/hasOne: the other hasMany/hasOne relations over the same target rows by the same foreign key
   * (e.g. `A.bs` and `A.firstB`): a complete answer for a key of one is the complete group of the others.
   */
  readonly siblings: readonly string[];
  readonly read: RowsRead;
  readonly readFresh: RowsRead;
  /** manyToMany: decodes `$src` when the source key needs it. */
  readonly decodeSource: Decoder | undefined;
  /**
   * manyToMany: drops the links of some source keys (?1) that are not among the answer's links (?2), then
   * adds those missing, so links that stay are not touched (a link coming or going unmarks, by trigger).
   * Source keys recorded complete (?3: the relation id) by a read later than this one's (?4) are left as they are.
   */
  readonly unlink?: string;
  readonly link?: string;
}

/** The plans of every entity and relation of the schema a cache was opened with. */
export class Plans {
  readonly #tables = new Map<CompiledEntity, TablePlan>();
  readonly #relations = new Map<CompiledRelation, RelationPlan>();
  /** The key of each lookup kind but custom queries: an entity's key, a relation's source key. */
  readonly #kindKeys = new Map<string, CompiledKey>();
  readonly #description: string;

  constructor(schema: CompiledSchema, description: string) {
    this.#description = description;
    for (const entity of schema.entities) {
      this.#tables.set(entity, planTable(entity));
      this.#kindKeys.set(entity.name, entity.key);
    }
    for (const rel of schema.relations) {
      if (rel.kind !== 'belongsTo') this.#relations.set(rel, planRelation(rel, schema.relations.filter((r) => sameGroup(r, rel)).map((r) => r.id)));
      this.#kindKeys.set(rel.id, rel.source.key);
    }
  }

  /**
   * The key a lookup kind is keyed by, as completeness marks spell kinds: `A` (an entity's key), `A.bs`
   * (the relation's source key), or undefined for a custom query `q:tag` (keyed by its parameters' text).
   */
  kindKey(kind: string): CompiledKey | undefined {
    if (kind.startsWith('q:')) return undefined;
    const key = this.#kindKeys.get(kind);
    if (key === undefined) throw new TypeError(`${this.#description}: unknown lookup kind ${JSON.stringify(kind)}; expected an entity name, a relation id (Entity.relation) or q:tag`);
    return key;
  }

  /** The entities planned, in schema order. */
  entities(): IterableIterator<CompiledEntity> {
    return this.#tables.keys();
  }

  /** The hasMany, hasOne and manyToMany relations planned, in schema order. */
  relations(): IterableIterator<CompiledRelation> {
    return this.#relations.keys();
  }

  table(entity: CompiledEntity): TablePlan {
    const plan = this.#tables.get(entity);
    if (plan === undefined) throw new Error(`${this.#description}: entity ${entity.name} is not in the schema it was opened with`);
    return plan;
  }

  relation(rel: CompiledRelation): RelationPlan {
    const plan = this.#relations.get(rel);
    if (plan === undefined) throw new Error(`${rel.id} is not a hasMany, hasOne or manyToMany relation`);
    return plan;
  }
}

function planTable(entity: CompiledEntity): TablePlan {
  const t = q(entity.table);
  const key = entity.key;
  const colNames = entity.columns.map((c) => c.name);
  const values = entity.columns.map((c, i) => (c.type === 'blob' ? `unhex(value ->> ${i})` : `value ->> ${i}`));
  const updates = [...entity.columns.filter((c) => !key.columns.includes(c)).map((c) => c.name), READ_AT].map((c) => `${q(c)} = excluded.${q(c)}`);
  const at = (c: CompiledColumn) => entity.columns.indexOf(c);
  /** A key (or foreign key) of a row `value` of ?1, as `keysParam` binds it. */
  const keyIn = (k: CompiledKey, value: string) =>
    k.composite ? `json_array(${k.columns.map((c) => `${value} ->> ${at(c)}`).join(', ')})` : `${value} ->> ${at(k.columns[0] as CompiledColumn)}`;
  const newer = (kind: string, k: CompiledKey, stamp: string) =>
    `NOT EXISTS (SELECT 1 FROM ever_loaded e WHERE e.kind = ${literal(kind)} AND e.key = ${keyIn(k, 'value')} AND e.loaded_at > ${stamp})`;
  const unknownLater = (stamp: string) => [newer(entity.name, key, stamp), ...entity.dependents.map((d) => newer(d.id, d.foreignKey, stamp))].join(' AND ');
  /** The upsert, with the read stamp of each row taken from `stamp` (?2, or the row's own). */
  const upsert = (stamp: string) =>
    `INSERT INTO ${t} (${[...colNames, READ_AT].map(q).join(', ')}) SELECT ${values.join(', ')}, ${stamp} FROM json_each(?1) WHERE ${unknownLater(stamp)} ` +
    `ON CONFLICT (${key.columns.map((c) => q(c.name)).join(', ')}) DO UPDATE SET ${updates.join(', ')} WHERE excluded.${q(READ_AT)} >= ${t}.${q(READ_AT)}`;
  const matchR = key.columns.map((c) => `t.${q(c.name)} = ${values[at(c)]?.replace('value', 'r.value')}`).join(' AND ');
  const unwritten = (cond: string) =>
    `SELECT r.key AS i FROM json_each(?1) r LEFT JOIN ${t} t ON ${matchR} ` +
    `WHERE t.${q((key.columns[0] as CompiledColumn).name)} IS NULL OR (t.${q(READ_AT)} > ?2 AND (${cond}))`;
  const differs = (cols: readonly CompiledColumn[]) => cols.map((c) => `t.${q(c.name)} IS NOT ${values[at(c)]?.replace('value', 'r.value')}`).join(' OR ') || 'false';
  const removalCols = new Set([...key.columns, ...entity.dependents.flatMap((d) => d.foreignKey.columns)]);
  // Rows recorded absent come back with only their key columns, taken from the asked key.
  const absentAware = entity.columns
    .map((c) => {
      const i = key.columns.indexOf(c);
      if (i < 0) return `t.${q(c.name)}`;
      return `COALESCE(t.${q(c.name)}, ${key.composite ? `k.value ->> ${i}` : 'k.value'}) AS ${q(c.name)}`;
    })
    .join(', ');
  const firstKey = `t.${q((key.columns[0] as CompiledColumn).name)}`;
  const aliased = !key.composite && !compareExactly(key);
  // The row the key names, or the row its current alias names; absent only when no alias stands.
  const aliasedRead = (join: string, fresh: string) =>
    `SELECT ${absentAware}, ${firstKey} IS NULL AS "$a", a.asked AS "$asked" FROM json_each(?1) k ` +
    `${join} ever_loaded e ON e.kind = ?2 AND e.key = k.value${fresh} ` +
    'LEFT JOIN adbv_alias a ON a.kind = ?2 AND a.asked = k.value AND a.loaded_at = e.loaded_at ' +
    `LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'COALESCE(a.key, k.value)')} ` +
    `WHERE ${firstKey} IS NOT NULL OR (e.key IS NOT NULL AND a.asked IS NULL)`;
  const readNames = [...colNames, '$a', ...(aliased ? ['$asked'] : [])];
  const entityRead = (sql: string) => rowsRead(sql, readNames, packable(entity.columns));
  return {
    kind: entity.name,
    decode: planDecode(entity, DECODED),
    aliased,
    readEntities: entityRead(aliased ? aliasedRead('LEFT JOIN', '') :
      `SELECT ${absentAware}, ${firstKey} IS NULL AS "$a" ` +
      `FROM json_each(?1) k LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'k.value')} ` +
      `WHERE ${firstKey} IS NOT NULL OR EXISTS (SELECT 1 FROM ever_loaded e WHERE e.kind = ?2 AND e.key = k.value)`),
    readEntitiesFresh: entityRead(aliased ? aliasedRead('JOIN', ' AND e.loaded_at >= ?3') :
      `SELECT ${absentAware}, ${firstKey} IS NULL AS "$a" ` +
      `FROM json_each(?1) k JOIN ever_loaded e ON e.kind = ?2 AND e.key = k.value AND e.loaded_at >= ?3 ` +
      `LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'k.value')}`),
    readQuery:
      `SELECT ${colNames.map((c) => `t.${q(c)}`).join(', ')}, r.pos AS "$pos", r.key AS "$k" FROM ever_loaded e ` +
      `LEFT JOIN adbv_query_rows r ON r.kind = e.kind AND r.params = e.key ` +
      `LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'r.key')} ` +
      `WHERE e.kind = ?1 AND e.key = ?2 AND e.loaded_at >= ?3 ORDER BY r.pos`,
    upsert: upsert('?2'),
    upsertStamped: upsert(`(value ->> ${colNames.length})`),
    unwritten: {
      entity: unwritten('false'),
      query: unwritten(differs(entity.columns.filter((c) => !key.columns.includes(c)))),
      relation: new Map(entity.dependents.map((d) => [d.id, unwritten(differs(d.foreignKey.columns))])),
    },
    encoders: entity.columns.map((c) => ENCODERS[c.type]),
    names: colNames,
    selectForRemoval: `SELECT DISTINCT ${[...removalCols].map((c) => `t.${q(c.name)}`).join(', ')}, t.${q(READ_AT)} AS "$read_at" FROM ${t} t`,
    deleteRows: `DELETE FROM ${t} AS t WHERE ${inKeys(key, 't')}`,
  };
}

/** Whether `other` reads the same rows, grouped by the same foreign key, as hasMany/hasOne `rel`. */
function sameGroup(other: CompiledRelation, rel: CompiledRelation): boolean {
  const grouped = (r: CompiledRelation) => r.kind === 'hasMany' || r.kind === 'hasOne';
  return other !== rel && grouped(rel) && grouped(other) && other.target === rel.target &&
    other.foreignKey.columns.length === rel.foreignKey.columns.length && other.foreignKey.columns.every((c, i) => c === rel.foreignKey.columns[i]);
}

function planRelation(rel: CompiledRelation, siblings: readonly string[]): RelationPlan {
  const target = rel.target;
  // Grouped by the relation key (as selected: the empty groups' too), then in the relation's order.
  const order = `ORDER BY ${rel.batchOrder.map((c) => (c.name === '$src' || rel.foreignKey.columns.includes(c) ? q(c.name) : `t.${q(c.name)}`)).join(', ')}`;
  const t = rel.through;
  let from: string;
  let cols: string;
  if (t === undefined) {
    const fk = rel.foreignKey;
    cols = target.columns
      .map((c) => {
        const i = fk.columns.indexOf(c);
        if (i < 0) return `t.${q(c.name)}`;
        return `COALESCE(t.${q(c.name)}, ${fk.composite ? `k.value ->> ${i}` : 'k.value'}) AS ${q(c.name)}`;
      })
      .join(', ');
    from = `LEFT JOIN ${q(target.table)} t ON ${keyEquals(fk, 't', 'k.value')}`;
  } else {
    cols = `k.value AS "$src", ${target.columns.map((c) => `t.${q(c.name)}`).join(', ')}`;
    from =
      `LEFT JOIN ${q(t.table)} j ON j.${q(t.sourceKey.name)} = k.value ` +
      `LEFT JOIN ${q(target.table)} t ON t.${q((target.key.columns[0] as CompiledColumn).name)} = j.${q(t.targetKey.name)}`;
  }
  const readNames = [...(t === undefined ? [] : ['$src']), ...target.columns.map((c) => c.name), '$e'];
  // `$src` is the asked source key as bound: exact in JSON when the source key's columns are.
  const exact = packable(target.columns) && (t === undefined || packable(rel.source.key.columns));
  // "$e" marks a complete key with no rows; the key columns cannot tell when the foreign key is the target's key.
  const head = `SELECT ${cols}, t.${q((target.key.columns[0] as CompiledColumn).name)} IS NULL AS "$e" FROM json_each(?1) k JOIN ever_loaded e ON e.kind = ?2 AND e.key = k.value`;
  const plan: RelationPlan = {
    siblings,
    read: rowsRead(`${head} ${from} ${order}`, readNames, exact),
    readFresh: rowsRead(`${head} AND e.loaded_at >= ?3 ${from} ${order}`, readNames, exact),
    decodeSource: t !== undefined && DECODED.has(t.sourceKey.type) ? DECODERS[t.sourceKey.type] : undefined,
  };
  if (t === undefined) return plan;
  // A source key recorded complete by a later read (?4) keeps that read's links (?3: the relation id).
  const noLaterMark = (src: string) => `NOT EXISTS (SELECT 1 FROM ever_loaded e WHERE e.kind = ?3 AND e.key = ${src} AND e.loaded_at > ?4)`;
  return {
    ...plan,
    unlink:
      `DELETE FROM ${q(t.table)} WHERE ${q(t.sourceKey.name)} IN (SELECT value FROM json_each(?1) k WHERE ${noLaterMark('k.value')}) ` +
      `AND (${q(t.sourceKey.name)}, ${q(t.targetKey.name)}) NOT IN (SELECT value ->> 0, value ->> 1 FROM json_each(?2))`,
    link:
      `INSERT OR IGNORE INTO ${q(t.table)} (${q(t.sourceKey.name)}, ${q(t.targetKey.name)}) ` +
      `SELECT value ->> 0, value ->> 1 FROM json_each(?2) WHERE ${noLaterMark('value ->> 0')}`,
  };
}

/** A string literal of a schema name (values are bound everywhere else). */
function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
