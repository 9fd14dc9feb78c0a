// defineSchema(): checks a schema's definitions at run time and compiles them for the store.
import { SchemaError } from '../errors.js';
import { assertMode } from '../mode.js';
import { describe } from '../values.js';
import type { ColumnType, CompiledColumn } from './columns.js';
import type { CheckSchema, EntityDef, RelationOptions, ThroughOptions } from './define.js';
import type { CompiledEntity, CompiledRelation, CompiledSchema, CompiledThrough } from './compiled.js';
import { compileKey, type CompiledKey } from './key.js';

/** A checked schema, as returned by {@link defineSchema}. */
export interface Schema<S extends Record<string, EntityDef> = Record<string, EntityDef>> {
  readonly entities: S;
  /** @internal */
  readonly compiled: CompiledSchema;
}

const COLUMN_TYPES: ReadonlySet<string> = new Set<ColumnType>([
  'integer', 'bigint', 'real', 'decimal', 'text', 'boolean', 'datetime', 'json', 'blob',
]);
const KEY_TYPES: ReadonlySet<ColumnType> = new Set<ColumnType>(['integer', 'bigint', 'text', 'decimal']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names a view already uses for its own methods, so no entity may take them. */
export const RESERVED_VIEW_NAMES: ReadonlySet<string> = new Set([
  'close', 'closed', 'mode', 'store', 'query', 'raw', 'preload', 'refresh', 'then', 'catch', 'finally',
  'constructor', 'prototype', 'toString', 'valueOf', 'toJSON', '__proto__', 'hasOwnProperty', 'isPrototypeOf',
]);
/** Names an entity object already uses, or that would break `await` on it. */
const RESERVED_FIELD_NAMES: ReadonlySet<string> = new Set([
  'then', 'catch', 'finally', 'constructor', 'prototype', 'toJSON', 'toString', 'valueOf', '__proto__',
  'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString',
]);
/** Tables the cache keeps for itself. */
export const RESERVED_TABLES: ReadonlySet<string> = new Set(['ever_loaded', 'adbv_meta']);

/**
 * Checks a schema and returns it ready for {@link openStore}. Mistakes (an unknown target entity, a missing
 * key column, a relation over a missing column, a name that collides with a view method) throw a
 * `SchemaError` naming the entity and field; most are also compile errors.
 *
 * @example
 * const schema = defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer' } }) });
 */
export function defineSchema<const S extends Record<string, EntityDef>>(entities: S & CheckSchema<S>): Schema<S> {
  return { entities, compiled: compileSchema(entities) };
}

function assertMaxAge(value: unknown, at: string): void {
  if (typeof value !== 'number' || !(value >= 0)) fail(`${at}: expected a number of milliseconds >= 0, got ${describe(value)}`);
}

function fail(message: string): never {
  throw new SchemaError(message);
}

function compileColumn(entityName: string, name: string, spec: unknown): CompiledColumn {
  if (!IDENTIFIER.test(name)) fail(`${entityName}.columns.${name}: column names must be identifiers (${IDENTIFIER})`);
  if (RESERVED_FIELD_NAMES.has(name)) fail(`${entityName}.columns.${name}: "${name}" is reserved on entity objects`);
  if (typeof spec !== 'string') fail(`${entityName}.columns.${name}: expected a column type string, got ${describe(spec)}`);
  const nullable = spec.endsWith('?');
  const type = nullable ? spec.slice(0, -1) : spec;
  if (!COLUMN_TYPES.has(type)) {
    fail(`${entityName}.columns.${name}: unknown column type ${describe(spec)}; expected one of ${[...COLUMN_TYPES].join(', ')} (append ? for nullable)`);
  }
  return { name, type: type as ColumnType, nullable };
}

function compileSchema(defs: Record<string, EntityDef>): CompiledSchema {
  if (defs === null || typeof defs !== 'object') fail(`defineSchema: expected an object of entities, got ${describe(defs)}`);
  const entities: (CompiledEntity & { relations: CompiledRelation[]; dependents: CompiledRelation[]; linkedBy: CompiledRelation[] })[] = [];
  const byName = new Map<string, (typeof entities)[number]>();
  const tables = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    if (!IDENTIFIER.test(name)) fail(`entity ${describe(name)}: entity names must be identifiers (${IDENTIFIER})`);
    if (RESERVED_VIEW_NAMES.has(name)) fail(`entity ${name}: the name collides with the view method or property "${name}"; rename the entity`);
    if (def === null || typeof def !== 'object') fail(`entity ${name}: expected entity({...}), got ${describe(def)}`);
    if (typeof def.table !== 'string' || !IDENTIFIER.test(def.table)) fail(`${name}.table: expected an identifier, got ${describe(def.table)}`);
    if (RESERVED_TABLES.has(def.table)) fail(`${name}.table: "${def.table}" is reserved for the cache's own use`);
    const other = tables.get(def.table);
    if (other !== undefined) fail(`${name}.table: table "${def.table}" is already used by entity ${other}`);
    tables.set(def.table, name);
    if (def.columns === null || typeof def.columns !== 'object') fail(`${name}.columns: expected an object, got ${describe(def.columns)}`);
    const columns = Object.entries(def.columns).map(([c, spec]) => compileColumn(name, c, spec));
    const columnByName = new Map(columns.map((c) => [c.name, c]));
    const keyNames: readonly unknown[] = Array.isArray(def.key) ? def.key : [def.key];
    if (keyNames.length === 0) fail(`${name}.key: expected a column name or a non-empty list of column names`);
    const keyColumns = keyNames.map((k) => {
      const col = typeof k === 'string' ? columnByName.get(k) : undefined;
      if (col === undefined) fail(`${name}.key: key column ${describe(k)} is not among the columns (${[...columnByName.keys()].join(', ')})`);
      if (!KEY_TYPES.has(col.type)) fail(`${name}.key: key column "${col.name}" has type ${col.type}; keys must be integer, bigint, text or decimal`);
      return col;
    });
    if (new Set(keyColumns).size !== keyColumns.length) fail(`${name}.key: a column appears twice in ${describe(def.key)}`);
    const key = compileKey(keyColumns);
    if (def.maxAge !== undefined) assertMaxAge(def.maxAge, `${name}.maxAge`);
    const compiled = { name, index: entities.length, table: def.table, key, columns, columnByName, relations: [], dependents: [], linkedBy: [], maxAge: def.maxAge };
    entities.push(compiled);
    byName.set(name, compiled);
  }
  const relations: CompiledRelation[] = [];
  for (const source of entities) {
    const def = defs[source.name] as EntityDef;
    for (const [relName, rel] of Object.entries(def.relations ?? {})) {
      const at = `${source.name}.relations.${relName}`;
      if (!IDENTIFIER.test(relName)) fail(`${at}: relation names must be identifiers`);
      if (RESERVED_FIELD_NAMES.has(relName)) fail(`${at}: "${relName}" is reserved on entity objects`);
      if (source.columnByName.has(relName)) fail(`${at}: "${relName}" is already a column of ${source.name}`);
      if (rel === null || typeof rel !== 'object' || !['hasMany', 'hasOne', 'belongsTo', 'manyToMany'].includes(rel.kind)) {
        fail(`${at}: expected hasMany(...), hasOne(...), belongsTo(...) or manyToMany(...), got ${describe(rel)}`);
      }
      const target = byName.get(rel.target);
      if (target === undefined) fail(`${at}: unknown target entity ${describe(rel.target)}; known entities: ${[...byName.keys()].join(', ')}`);
      const options = (rel.options ?? {}) as RelationOptions & Partial<ThroughOptions>;
      let foreignKey: CompiledKey;
      let through: CompiledThrough | undefined;
      if (rel.kind === 'manyToMany') {
        for (const field of ['through', 'sourceKey', 'targetKey'] as const) {
          const v = options[field];
          if (typeof v !== 'string' || !IDENTIFIER.test(v)) fail(`${at}.${field}: expected an identifier, got ${describe(v)}`);
        }
        const table = options.through as string;
        if (tables.has(table) || RESERVED_TABLES.has(table)) fail(`${at}.through: table "${table}" is already an entity table or reserved`);
        if (options.sourceKey === options.targetKey) fail(`${at}: sourceKey and targetKey must differ, both are "${options.sourceKey}"`);
        if (source.key.composite || target.key.composite) fail(`${at}: manyToMany needs single-column keys on ${source.name} and ${target.name}`);
        const sourceKey = source.key.columns[0] as CompiledColumn;
        const targetKey = target.key.columns[0] as CompiledColumn;
        through = {
          table,
          sourceKey: { name: options.sourceKey as string, type: sourceKey.type, nullable: false },
          targetKey: { name: options.targetKey as string, type: targetKey.type, nullable: false },
        };
        foreignKey = compileKey([through.sourceKey]);
      } else {
        const fkOwner = rel.kind === 'belongsTo' ? source : target;
        const referenced = rel.kind === 'belongsTo' ? target : source;
        const fkNames: readonly unknown[] = Array.isArray(rel.foreignKey) ? rel.foreignKey : [rel.foreignKey];
        if (fkNames.length !== referenced.key.columns.length) {
          fail(`${at}: foreign key ${describe(rel.foreignKey)} has ${fkNames.length} column(s) but ${referenced.name}'s key has ${referenced.key.columns.length}`);
        }
        const fkColumns = fkNames.map((n, i) => {
          const fk = typeof n === 'string' ? fkOwner.columnByName.get(n) : undefined;
          if (fk === undefined) {
            fail(`${at}: foreign key column ${describe(n)} is not a column of ${fkOwner.name} (${[...fkOwner.columnByName.keys()].join(', ')})`);
          }
          const keyCol = referenced.key.columns[i] as CompiledColumn;
          if (fk.type !== keyCol.type) {
            fail(`${at}: foreign key ${fkOwner.name}.${fk.name} (${fk.type}) cannot reference key ${referenced.name}.${keyCol.name} (${keyCol.type})`);
          }
          return fk;
        });
        foreignKey = compileKey(fkColumns);
      }
      if (options.maxAge !== undefined) assertMaxAge(options.maxAge, `${at}.options.maxAge`);
      if (options.mode !== undefined) assertMode(options.mode, `${at}.options.mode`);
      const orderBy: CompiledColumn[] = [];
      if (options.orderBy !== undefined) {
        if (rel.kind === 'belongsTo') fail(`${at}.options.orderBy: only hasMany and hasOne can be ordered`);
        const col = target.columnByName.get(options.orderBy);
        if (col === undefined) fail(`${at}.options.orderBy: ${describe(options.orderBy)} is not a column of ${target.name}`);
        if (!target.key.columns.includes(col)) orderBy.push(col);
      }
      orderBy.push(...target.key.columns);
      const compiled: CompiledRelation = {
        id: `${source.name}.${relName}`,
        index: relations.length,
        name: relName,
        kind: rel.kind,
        source,
        target,
        foreignKey,
        orderBy,
        batchOrder: [...(through === undefined ? foreignKey.columns : [{ name: '$src', type: foreignKey.columns[0]?.type ?? 'integer', nullable: false }]), ...orderBy],
        mode: options.mode,
        hasFallback: 'offlineFallback' in options,
        offlineFallback: options.offlineFallback,
        maxAge: options.maxAge,
        through,
      };
      relations.push(compiled);
      source.relations.push(compiled);
      if (rel.kind === 'hasMany' || rel.kind === 'hasOne') target.dependents.push(compiled);
      if (rel.kind === 'manyToMany') target.linkedBy.push(compiled);
    }
  }
  return { entities, byName, relations };
}
