// The SQL text of each entity table and relation of a schema, built once when the cache opens.
import { DECODERS, planDecode, type DecodePlan, type Decoder } from '../../core/codec.js';
import type { CompiledColumn, CompiledEntity, CompiledKey, CompiledRelation, CompiledSchema } from '../../core/schema.js';
import { inKeys, keyEquals, quoteSqlite as q } from '../../sqlite/connection.js';
import { DECODED, ENCODERS, type Encoder } from './encoders.js';

/** Per-entity SQL and codecs. */
export interface TablePlan {
  readonly kind: string;
  readonly decode: DecodePlan;
  readonly readEntities: string;
  /** As readEntities, counting only rows whose entity mark is recent enough (?3). */
  readonly readEntitiesFresh: string;
  readonly readQuery: string;
  readonly upsert: string;
  readonly encoders: readonly (Encoder | undefined)[];
  readonly names: readonly string[];
  /** Selects the key and every dependent foreign key of rows; the WHERE is appended per use. */
  readonly selectForRemoval: string;
  readonly deleteRows: string;
}

/** Per-relation SQL. */
export interface RelationPlan {
  readonly read: string;
  readonly readFresh: string;
  /** manyToMany: decodes `$src` when the source key needs it. */
  readonly decodeSource: Decoder | undefined;
  /** manyToMany: replaces the links of some source keys. */
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
      if (rel.kind !== 'belongsTo') this.#relations.set(rel, planRelation(rel));
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
  const updates = entity.columns.filter((c) => !key.columns.includes(c)).map((c) => `${q(c.name)} = excluded.${q(c.name)}`);
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
  return {
    kind: entity.name,
    decode: planDecode(entity, DECODED),
    readEntities:
      `SELECT ${absentAware}, ${firstKey} IS NULL AS "$a" ` +
      `FROM json_each(?1) k LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'k.value')} ` +
      `WHERE ${firstKey} IS NOT NULL OR EXISTS (SELECT 1 FROM ever_loaded e WHERE e.kind = ?2 AND e.key = k.value)`,
    readEntitiesFresh:
      `SELECT ${absentAware}, ${firstKey} IS NULL AS "$a" ` +
      `FROM json_each(?1) k JOIN ever_loaded e ON e.kind = ?2 AND e.key = k.value AND e.loaded_at >= ?3 ` +
      `LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'k.value')}`,
    readQuery:
      `SELECT ${colNames.map((c) => `t.${q(c)}`).join(', ')}, r.pos AS "$pos" FROM ever_loaded e ` +
      `LEFT JOIN adbv_query_rows r ON r.kind = e.kind AND r.params = e.key ` +
      `LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'r.key')} ` +
      `WHERE e.kind = ?1 AND e.key = ?2 AND e.loaded_at >= ?3 ORDER BY r.pos`,
    upsert:
      `INSERT INTO ${t} (${colNames.map(q).join(', ')}) SELECT ${values.join(', ')} FROM json_each(?) WHERE true ` +
      `ON CONFLICT (${key.columns.map((c) => q(c.name)).join(', ')}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
    encoders: entity.columns.map((c) => ENCODERS[c.type]),
    names: colNames,
    selectForRemoval: `SELECT DISTINCT ${[...removalCols].map((c) => `t.${q(c.name)}`).join(', ')} FROM ${t} t`,
    deleteRows: `DELETE FROM ${t} AS t WHERE ${inKeys(key, 't')}`,
  };
}

function planRelation(rel: CompiledRelation): RelationPlan {
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
  // "$e" marks a complete key with no rows; the key columns cannot tell when the foreign key is the target's key.
  const head = `SELECT ${cols}, t.${q((target.key.columns[0] as CompiledColumn).name)} IS NULL AS "$e" FROM json_each(?1) k JOIN ever_loaded e ON e.kind = ?2 AND e.key = k.value`;
  const plan: RelationPlan = {
    read: `${head} ${from} ${order}`,
    readFresh: `${head} AND e.loaded_at >= ?3 ${from} ${order}`,
    decodeSource: t !== undefined && DECODED.has(t.sourceKey.type) ? DECODERS[t.sourceKey.type] : undefined,
  };
  if (t === undefined) return plan;
  return {
    ...plan,
    unlink: `DELETE FROM ${q(t.table)} WHERE ${q(t.sourceKey.name)} IN (SELECT value FROM json_each(?))`,
    link:
      `INSERT OR IGNORE INTO ${q(t.table)} (${q(t.sourceKey.name)}, ${q(t.targetKey.name)}) ` +
      `SELECT value ->> 0, value ->> 1 FROM json_each(?)`,
  };
}
