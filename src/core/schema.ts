// The schema, in one import: the definition API, column types, and the compiled form (see schema/).
export type { ColumnType, ColumnSpec, JsonValue, ColumnTypes, ColumnValue, CompiledColumn } from './schema/columns.js';
export { hasMany, hasOne, belongsTo, manyToMany, entity } from './schema/define.js';
export type { RelationOptions, ThroughOptions, RelationKind, RelationDef, EntityDef, NoRelations, ColumnsOf, CheckSchema } from './schema/define.js';
export type { CompiledSchema, CompiledEntity, CompiledThrough, CompiledRelation, CompiledKey } from './schema/compiled.js';
export { defineSchema, RESERVED_VIEW_NAMES, RESERVED_TABLES } from './schema/compile.js';
export { compareExactly } from './schema/key.js';
export type { Schema } from './schema/compile.js';
