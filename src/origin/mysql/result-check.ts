// Checks MySQL/MariaDB result columns against the schema once, and plans how their values decode.
import { planDecode, type DecodePlan, type Decoder } from '../../core/codec.js';
import { SchemaError } from '../../core/errors.js';
import type { ColumnType, CompiledEntity, CompiledThrough } from '../../core/schema.js';
import { assertUniqueColumns } from '../unique-columns.js';
import { verdict, type OriginField, type ReadOptions } from './column-compat.js';

/** Custom-query result shapes remembered per entity; past this the oldest is checked again when it comes back. */
const MAX_QUERY_SHAPES = 64;

/**
 * The declared types of a store's entities against the columns the origin actually returns. The library's
 * own statements select the same columns of one table every time, so an entity is checked at its first
 * result (entity, relation or tree read) and never again; a custom query's result may type a column
 * differently (an expression, another table), so each result shape is checked once. Either way the
 * per-row cost is only the decoders a column needs, and a refusal comes before any row reaches the cache.
 */
export class ResultCheck {
  readonly #options: ReadOptions;
  readonly #tables = new Map<CompiledEntity, DecodePlan>();
  readonly #queries = new Map<CompiledEntity, Map<string, DecodePlan>>();
  /** A manyToMany read's plan: its target's plus the join table's source key (`$src`). */
  readonly #throughs = new Map<CompiledThrough, DecodePlan>();

  constructor(options: ReadOptions) {
    this.#options = options;
  }

  /**
   * The decode plan of `entity`'s rows as the library selects them (`through`: a manyToMany read whose
   * rows also carry the join table's source key as `$src`). Throws a SchemaError at the first result whose
   * column cannot give a declared type.
   */
  table(entity: CompiledEntity, fields: readonly OriginField[] | undefined, through?: CompiledThrough): DecodePlan {
    let plan = this.#tables.get(entity);
    if (plan === undefined) {
      plan = this.#plan(entity, fields, `origin table ${entity.table}`);
      if (fields !== undefined) this.#tables.set(entity, plan);
    }
    if (through === undefined) return plan;
    let linked = this.#throughs.get(through);
    if (linked === undefined) {
      const src = fields?.find((f) => f.name === '$src');
      const decoder = this.#decoder(`${entity.name} via ${through.table}.${through.sourceKey.name}`, through.sourceKey.type, src, `origin table ${through.table}`, through.sourceKey.name);
      linked = decoder === undefined ? plan : { names: [...plan.names, '$src'], decoders: [...plan.decoders, decoder] };
      if (fields !== undefined && this.#tables.get(entity) === plan) this.#throughs.set(through, linked);
    }
    return linked;
  }

  /**
   * The decode plan of a custom query's rows: a TypeError when two columns share a name (the row object
   * would keep only one), a SchemaError when a column cannot give its declared type.
   */
  query(entity: CompiledEntity, fields: readonly OriginField[] | undefined, where: string): DecodePlan {
    if (fields === undefined) return this.#unchecked(entity);
    const shape = fields.map((f) => `${f.name}\u0001${f.columnType ?? f.type}\u0001${String(f.flags)}\u0001${f.columnLength}\u0001${f.decimals}\u0001${f.characterSet}\u0001${f.extendedFormat ?? ''}`).join('\u0002');
    let shapes = this.#queries.get(entity);
    if (shapes === undefined) this.#queries.set(entity, (shapes = new Map()));
    let plan = shapes.get(shape);
    if (plan === undefined) {
      assertUniqueColumns(fields.map((f) => f.name), where);
      plan = this.#plan(entity, fields, where);
      if (shapes.size >= MAX_QUERY_SHAPES) shapes.delete(shapes.keys().next().value as string);
      shapes.set(shape, plan);
    }
    return plan;
  }

  #plan(entity: CompiledEntity, fields: readonly OriginField[] | undefined, source: string): DecodePlan {
    if (fields === undefined) return this.#unchecked(entity);
    const byName = new Map(fields?.map((f) => [f.name, f]));
    const names: string[] = [];
    const decoders: Decoder[] = [];
    for (const column of entity.columns) {
      const decoder = this.#decoder(`${entity.name}.${column.name}`, column.type, byName.get(column.name), source, column.name);
      if (decoder === undefined) continue;
      names.push(column.name);
      decoders.push(decoder);
    }
    return { names, decoders };
  }

  /** Without column metadata (mysql2 gives it with every result set; kept as a safety net): the plain decoders. */
  #unchecked(entity: CompiledEntity): DecodePlan {
    const types = new Set<ColumnType>(['bigint', 'boolean', 'decimal', 'datetime', 'blob']);
    if (this.#options.jsonStrings) types.add('json');
    return planDecode(entity, types);
  }

  /** The decoder of one column, or undefined when its values need none; a SchemaError when it cannot give `declared`. */
  #decoder(where: string, declared: ColumnType, field: OriginField | undefined, source: string, column: string): Decoder | undefined {
    // A column a custom query left out is the caller's error, reported by the core with the query's tag.
    if (field === undefined) return undefined;
    const v = verdict(declared, field, where, this.#options);
    if (!v.ok) {
      throw new SchemaError(`${where}: declared '${declared}' but ${source} gives column ${column} as ${v.actual}; '${declared}' needs ${v.needs}`);
    }
    return v.decoder;
  }
}
