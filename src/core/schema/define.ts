// The schema definition API (entity, hasMany, …) and the compile-time checks of a schema's types.
import type { Mode } from '../mode.js';
import type { ColumnSpec } from './columns.js';

/** Options every relation accepts. */
export interface RelationOptions {
  /** Caps the view's mode for this relation (`OFFLINE < PREFER_CACHE < FRESHEN`). */
  mode?: Mode;
  /** Returned instead of raising `IsOfflineError` when the lookup is offline and not in the cache. */
  offlineFallback?: unknown;
  /** Orders a `hasMany` by this target column (then by the target's key). Default: the target's key. */
  orderBy?: string;
  /** In `PREFER_CACHE`, a lookup recorded complete longer ago than this (ms) goes to the origin again. */
  maxAge?: number;
}

/** How a {@link manyToMany} relation reaches its targets. */
export interface ThroughOptions extends RelationOptions {
  /** The join table at the origin (mirrored in the cache). */
  through: string;
  /** The join table's column holding this entity's key. */
  sourceKey: string;
  /** The join table's column holding the target's key. */
  targetKey: string;
}

/** The kinds of relation. */
export type RelationKind = 'hasMany' | 'hasOne' | 'belongsTo' | 'manyToMany';

/** A relation declaration, as returned by {@link hasMany}, {@link hasOne} and {@link belongsTo}. */
export interface RelationDef<K extends RelationKind = RelationKind, T extends string = string, FK extends string | readonly string[] = string | readonly string[]> {
  readonly kind: K;
  readonly target: T;
  readonly foreignKey: FK;
  readonly options: RelationOptions;
}

/**
 * The rows of `target` whose `foreignKey` column equals this entity's key, ordered by the target's key
 * (or `options.orderBy`). Awaiting it gives a readonly array.
 *
 * @example
 * relations: { posts: hasMany('Post', 'author_id') }   // await author.posts
 */
export function hasMany<const T extends string, const FK extends string | readonly string[]>(
  target: T,
  foreignKey: FK,
  options: RelationOptions = {},
): RelationDef<'hasMany', T, FK> {
  return { kind: 'hasMany', target, foreignKey, options };
}

/**
 * The first row of `target` (in key or `orderBy` order) whose `foreignKey` equals this entity's key, or `null`.
 *
 * @example
 * relations: { profile: hasOne('Profile', 'user_id') }  // await user.profile
 */
export function hasOne<const T extends string, const FK extends string | readonly string[]>(
  target: T,
  foreignKey: FK,
  options: RelationOptions = {},
): RelationDef<'hasOne', T, FK> {
  return { kind: 'hasOne', target, foreignKey, options };
}

/**
 * The `target` row whose key equals this entity's `foreignKey` column; `null` when that column is NULL.
 *
 * @example
 * relations: { author: belongsTo('Author', 'author_id') }  // await post.author
 */
export function belongsTo<const T extends string, const FK extends string | readonly string[]>(
  target: T,
  foreignKey: FK,
  options: RelationOptions = {},
): RelationDef<'belongsTo', T, FK> {
  return { kind: 'belongsTo', target, foreignKey, options };
}

/**
 * The rows of `target` linked to this entity through a join table, ordered like a `hasMany`.
 *
 * @example
 * relations: { tags: manyToMany('Tag', { through: 'post_tags', sourceKey: 'post_id', targetKey: 'tag_id' }) }
 */
export function manyToMany<const T extends string>(target: T, options: ThroughOptions): RelationDef<'manyToMany', T, string> {
  return { kind: 'manyToMany', target, foreignKey: options?.targetKey, options };
}

/** An entity declaration, as returned by {@link entity}. */
export interface EntityDef<
  C extends Record<string, ColumnSpec> = Record<string, ColumnSpec>,
  K extends string | readonly string[] = string | readonly string[],
  R extends Record<string, RelationDef> = Record<string, RelationDef>,
> {
  readonly table: string;
  readonly key: K;
  readonly columns: C;
  readonly relations: R;
  /** In `PREFER_CACHE`, an entity lookup recorded complete longer ago than this (ms) goes to the origin again. */
  readonly maxAge?: number;
}

/**
 * Declares an entity: the origin table it mirrors, its key column, its columns and relations.
 *
 * @example
 * const Post = entity({
 *   table: 'posts', key: 'id',
 *   columns: { id: 'integer', title: 'text', author_id: 'integer?' },
 *   relations: { author: belongsTo('Author', 'author_id') },
 * });
 */
export function entity<
  const C extends Record<string, ColumnSpec>,
  const K extends (keyof C & string) | readonly (keyof C & string)[],
  const R extends Record<string, RelationDef> = Record<never, RelationDef>,
>(def: { table: string; key: K; columns: C; relations?: R; maxAge?: number }): EntityDef<C, K, NoRelations<R>> {
  const out = { table: def.table, key: def.key, columns: def.columns, relations: (def.relations ?? {}) as NoRelations<R> };
  return def.maxAge === undefined ? out : { ...out, maxAge: def.maxAge };
}

/** An omitted `relations` is inferred as its constraint (any string key): make that "no relations". */
export type NoRelations<R> = string extends keyof R ? Record<never, RelationDef> : R;

/** The column names of a key or foreign key declaration (one name, or a list for a composite). */
export type ColumnsOf<K> = K extends readonly (infer C)[] ? C : K;

/** Compile-time checks of a schema: relation targets, foreign keys and `orderBy` name real entities and columns. */
export type CheckSchema<S extends Record<string, EntityDef>> = {
  [N in keyof S]: {
    relations: {
      [RN in keyof S[N]['relations']]: S[N]['relations'][RN] extends RelationDef<infer K, infer T, infer FK>
        ? T extends keyof S & string
          ? K extends 'manyToMany'
            ? unknown
            : K extends 'belongsTo'
              ? ColumnsOf<FK> extends keyof S[N]['columns'] ? unknown : { foreignKey: keyof S[N]['columns'] & string }
              : ColumnsOf<FK> extends keyof S[T]['columns'] ? unknown : { foreignKey: keyof S[T]['columns'] & string }
          : { target: keyof S & string }
        : unknown;
    };
  };
};
