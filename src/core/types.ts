import type { Include } from './include.js';
import type { ColumnsOf, ColumnValue, EntityDef, RelationDef } from './schema.js';

/** Type-only brand naming an entity object's entity, so APIs can infer it from the object. */
export declare const entityName: unique symbol;

/**
 * The object type of entity `N` in schema `S`: its columns as readonly properties and its relations as
 * promises (`hasMany` → `Promise<readonly T[]>`, `hasOne` → `Promise<T | null>`, `belongsTo` →
 * `Promise<T>`, or `Promise<T | null>` when the foreign key column is nullable).
 */
export type EntityOf<S extends Record<string, EntityDef>, N extends keyof S> = {
  readonly [entityName]?: N;
} & {
  readonly [C in keyof S[N]['columns']]: ColumnValue<S[N]['columns'][C]>;
} & {
  readonly [R in keyof S[N]['relations']]: RelationValueOf<S, N, S[N]['relations'][R]>;
};

/** The awaited value of one relation. */
export type RelationValueOf<S extends Record<string, EntityDef>, N extends keyof S, R> =
  R extends RelationDef<infer K, infer T, infer FK>
    ? T extends keyof S
      ? K extends 'hasMany' | 'manyToMany'
        ? Promise<readonly EntityOf<S, T>[]>
        : K extends 'hasOne'
          ? Promise<EntityOf<S, T> | null>
          : `${string}?` extends S[N]['columns'][ColumnsOf<FK> & keyof S[N]['columns']]
            ? Promise<EntityOf<S, T>>
            : Extract<S[N]['columns'][ColumnsOf<FK> & keyof S[N]['columns']], `${string}?`> extends never
              ? Promise<EntityOf<S, T>>
              : Promise<EntityOf<S, T> | null>
      : never
    : never;

/** The key type of entity `N`: the key column's type, or a tuple of them for a composite key. */
export type KeyOf<S extends Record<string, EntityDef>, N extends keyof S> = S[N]['key'] extends readonly string[]
  ? CompositeKey<S[N]['columns'], S[N]['key']>
  : NonNullable<ColumnValue<S[N]['columns'][S[N]['key'] & keyof S[N]['columns']]>>;

/** A composite key: its values as a tuple in key order, or as an object by column name. */
export type CompositeKey<C, K extends readonly string[]> =
  | { readonly [I in keyof K]: NonNullable<ColumnValue<C[K[I] & keyof C]>> }
  | { readonly [P in K[number]]: NonNullable<ColumnValue<C[P & keyof C]>> };

/**
 * `view.X`: looks up one `X` by key (lookups made in one tick are batched), optionally preloading an
 * include tree; `view.X.many(keys)` looks up several in one batch.
 *
 * @example
 * const a = await view.A(1, { include: { bs: true } });
 * const as = await view.A.many([1, 2, 3]);
 */
export interface EntityAccessor<S extends Record<string, EntityDef>, N extends keyof S> {
  (key: KeyOf<S, N>, options?: { include?: Include<S, N>; strategy?: 'tree' | 'levels' }): Promise<EntityOf<S, N>>;
  /** Entities in key order; rejects with `NotFoundError` listing every missing key. */
  many(keys: readonly KeyOf<S, N>[], options?: { include?: Include<S, N>; nullForMissing?: false; strategy?: 'tree' | 'levels' }): Promise<readonly EntityOf<S, N>[]>;
  /** Entities in key order, `null` for missing keys. */
  many(keys: readonly KeyOf<S, N>[], options: { include?: Include<S, N>; nullForMissing: true; strategy?: 'tree' | 'levels' }): Promise<readonly (EntityOf<S, N> | null)[]>;
  /**
   * A local change: the whole row, new or replacing the row with its key. Kept in the cache file, shown
   * by every view of every store on it, never sent to the origin.
   */
  put(row: RowOf<S, N>): Promise<EntityOf<S, N>>;
  /** A local change: sets some (non-key) columns of an existing row. */
  patch(key: KeyOf<S, N>, columns: PatchOf<S, N>): Promise<EntityOf<S, N>>;
  /** A local change: takes the row out of every answer. */
  remove(key: KeyOf<S, N>): Promise<void>;
  /**
   * Every row in key order, as a lookup of its own (the whole table read from the origin in one
   * statement, recorded complete in the cache): for small reference tables.
   */
  all(): Promise<readonly EntityOf<S, N>[]>;
}

/** The names of the columns of `Cols` that may be NULL. */
type NullableColumns<Cols> = { [C in keyof Cols]: Cols[C] extends `${string}?` ? C : never }[keyof Cols];

/** The key column names of entity `N`. */
type KeyColumns<S extends Record<string, EntityDef>, N extends keyof S> = S[N]['key'] extends readonly string[] ? S[N]['key'][number] : S[N]['key'];

/** A whole row of entity `N` for `put`: every column, nullable ones optional. */
export type RowOf<S extends Record<string, EntityDef>, N extends keyof S> = {
  readonly [C in Exclude<keyof S[N]['columns'], NullableColumns<S[N]['columns']>>]: ColumnValue<S[N]['columns'][C]>;
} & {
  readonly [C in NullableColumns<S[N]['columns']>]?: ColumnValue<S[N]['columns'][C]>;
};

/** The columns `patch` may set on entity `N`: any non-key columns. */
export type PatchOf<S extends Record<string, EntityDef>, N extends keyof S> = {
  readonly [C in Exclude<keyof S[N]['columns'], KeyColumns<S, N>>]?: ColumnValue<S[N]['columns'][C]>;
};

/** The entity name of an entity object type. */
export type NameOf<E> = E extends { readonly [entityName]?: infer N } ? N : never;
