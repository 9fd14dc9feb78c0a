import type { ColumnValue, EntityDef, RelationDef } from './schema.js';

/**
 * The object type of entity `N` in schema `S`: its columns as readonly properties and its relations as
 * promises (`hasMany` → `Promise<readonly T[]>`, `hasOne` → `Promise<T | null>`, `belongsTo` →
 * `Promise<T>`, or `Promise<T | null>` when the foreign key column is nullable).
 */
export type EntityOf<S extends Record<string, EntityDef>, N extends keyof S> = {
  readonly [C in keyof S[N]['columns']]: ColumnValue<S[N]['columns'][C]>;
} & {
  readonly [R in keyof S[N]['relations']]: RelationValueOf<S, N, S[N]['relations'][R]>;
};

/** The awaited value of one relation. */
export type RelationValueOf<S extends Record<string, EntityDef>, N extends keyof S, R> =
  R extends RelationDef<infer K, infer T, infer FK>
    ? T extends keyof S
      ? K extends 'hasMany'
        ? Promise<readonly EntityOf<S, T>[]>
        : K extends 'hasOne'
          ? Promise<EntityOf<S, T> | null>
          : FK extends keyof S[N]['columns']
            ? S[N]['columns'][FK] extends `${string}?`
              ? Promise<EntityOf<S, T> | null>
              : Promise<EntityOf<S, T>>
            : never
      : never
    : never;

/** The key type of entity `N`. */
export type KeyOf<S extends Record<string, EntityDef>, N extends keyof S> = NonNullable<
  ColumnValue<S[N]['columns'][S[N]['key']]>
>;

/** `view.X`: looks up one `X` by key. Lookups made in one tick are batched. */
export type EntityAccessor<S extends Record<string, EntityDef>, N extends keyof S> = (key: KeyOf<S, N>) => Promise<EntityOf<S, N>>;
