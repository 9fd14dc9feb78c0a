export { defineSchema, entity, hasMany, hasOne, belongsTo, manyToMany } from './core/schema.js';
export type {
  ColumnType, ColumnSpec, ColumnValue, ColumnTypes, JsonValue, EntityDef, RelationDef, RelationKind, RelationOptions, ThroughOptions, Schema, CheckSchema,
} from './core/schema.js';
export type { EntityOf, RelationValueOf, KeyOf, EntityAccessor, NameOf, RowOf, PatchOf } from './core/types.js';
export type { LocalChange, LocalChangeKind, LocalChangeFilter } from './core/local/local-change.js';
export type { Include } from './core/include.js';
export type { QuerySpec, ManyOptions, PreloadOptions, ViewOptions } from './core/view/options.js';
export { Mode } from './core/mode.js';
export { NotLiveError, IsOfflineError, NotFoundError, OriginError, SchemaError } from './core/errors.js';
export { Store } from './core/store/store.js';
export type { StoreOptions, StoreStats, RefreshAllOptions, StoreEvents } from './core/store/store.js';
export type { QueryEvent, StatementListener } from './core/events.js';
export { ViewBase } from './core/view/view.js';
export type { View, TypedViewMethods } from './core/view/view.js';
export type { Origin, SelectRequest, TreeLevel } from './core/origin.js';
export type { CacheStore, EntityRead, RelationRead, MergeBatch, QueryKey, RecordedQuery, VerifyReport } from './core/cache-store.js';
export type { KeyValue, Row } from './core/values.js';
export { createStore, openStore } from './create-store.js';
export type { OpenStoreOptions } from './create-store.js';
export { attachDebugLog } from './debug-log.js';
export { mysqlOrigin } from './origin/mysql.js';
export type { MysqlOriginSource } from './origin/mysql.js';
export { sqliteOrigin } from './origin/sqlite.js';
export { sqliteCache } from './cache/sqlite/index.js';
export type { SqliteCacheOptions } from './cache/sqlite/index.js';
export type { SqliteDriver } from './sqlite/sqlite-driver.js';
export { graphqlInclude } from './graphql-include.js';
export type { ResolveInfoLike, IncludeTree } from './graphql-include.js';
