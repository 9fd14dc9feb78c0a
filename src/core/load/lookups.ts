// The lookup kinds of one store, built once: one per entity and one per hasMany/hasOne/manyToMany relation.
import type { CompiledEntity, CompiledRelation } from '../schema.js';
import type { Row } from '../values.js';
import type { LoadContext } from './context.js';
import { entityLookup } from './entities.js';
import type { LookupKind } from './lookup-kind.js';
import { relationLookup } from './relation.js';

/** @internal The entity and relation lookup kinds of a store's schema, indexed as the schema is. */
export class Lookups {
  readonly ctx: LoadContext;
  readonly #entities: LookupKind<Row | null>[];
  readonly #relations: (LookupKind<Row[]> | undefined)[];

  constructor(ctx: LoadContext) {
    this.ctx = ctx;
    this.#entities = ctx.schema.entities.map((e) => entityLookup(ctx, e));
    this.#relations = ctx.schema.relations.map((r) => (r.kind === 'belongsTo' ? undefined : relationLookup(ctx, r)));
  }

  /** Looking up `entity` rows by key. */
  entity(entity: CompiledEntity): LookupKind<Row | null> {
    return this.#entities[entity.index] as LookupKind<Row | null>;
  }

  /** Looking up a hasMany, hasOne or manyToMany relation's groups (a belongsTo is an entity lookup of its target). */
  relation(rel: CompiledRelation): LookupKind<Row[]> {
    const kind = this.#relations[rel.index];
    if (kind === undefined) throw new Error(`${rel.id} is a belongsTo: look up ${rel.target.name} by key`);
    return kind;
  }
}
