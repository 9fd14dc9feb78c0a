import { belongsTo, defineSchema, entity, hasMany, hasOne, RESERVED_TABLES, RESERVED_VIEW_NAMES, type ColumnSpec, type ColumnType, type EntityDef, type RelationDef } from '../core/schema.js';
import { columnTypeOf } from './column-type.js';
import { camelCase, entityNameOf, isIdentifier, pascalCase, stripIdSuffix, unique } from './naming.js';
import type { DbTable } from './read-information-schema.js';

/** Names an entity object already uses (as the schema refuses them for columns and relations). */
const RESERVED_FIELDS: ReadonlySet<string> = new Set([
  'then', 'catch', 'finally', 'constructor', 'prototype', 'toJSON', 'toString', 'valueOf', '__proto__',
  'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString',
]);
const KEY_TYPES: ReadonlySet<ColumnType> = new Set<ColumnType>(['integer', 'bigint', 'text', 'decimal']);

/** A relation of a generated entity. */
export interface GeneratedRelation {
  readonly name: string;
  readonly kind: 'belongsTo' | 'hasMany' | 'hasOne';
  readonly target: string;
  readonly foreignKey: readonly string[];
}

/** An entity of a generated schema. */
export interface GeneratedEntity {
  readonly name: string;
  readonly table: string;
  readonly key: readonly string[];
  readonly columns: readonly (readonly [name: string, spec: ColumnSpec])[];
  readonly relations: GeneratedRelation[];
}

/** A schema generated from an origin's tables, with notes on what was left out and why. */
export interface GeneratedSchema {
  readonly entities: readonly GeneratedEntity[];
  readonly notes: readonly string[];
}

const lcFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

/**
 * Maps tables to entities: the primary key (composite included) as the key, every column of a known type,
 * and per foreign key to the primary key of another table, `belongsTo` on the child and `hasMany` (or
 * `hasOne`, when the foreign key columns are unique) on the parent. Tables without a primary key, and
 * columns or foreign keys the schema cannot express, are left out with a note.
 */
export function generateSchema(tables: readonly DbTable[]): GeneratedSchema {
  const notes: string[] = [];
  const entities: (GeneratedEntity & { types: Map<string, ColumnType>; db: DbTable })[] = [];
  const taken = new Set<string>();
  for (const t of tables) {
    if (!isIdentifier(t.name)) {
      notes.push(`table ${t.name}: skipped, its name is not an identifier`);
      continue;
    }
    if (RESERVED_TABLES.has(t.name)) {
      notes.push(`table ${t.name}: skipped, the name is reserved for the cache's own tables`);
      continue;
    }
    if (t.primaryKey.length === 0) {
      notes.push(`table ${t.name}: skipped, it has no primary key`);
      continue;
    }
    const columns: [string, ColumnSpec][] = [];
    const types = new Map<string, ColumnType>();
    let skip: string | undefined;
    for (const c of t.columns) {
      const type = columnTypeOf(c);
      const inKey = t.primaryKey.includes(c.name);
      const problem =
        !isIdentifier(c.name) ? 'its name is not an identifier'
        : RESERVED_FIELDS.has(c.name) ? `"${c.name}" is reserved on entity objects`
        : type === undefined ? `type ${c.columnType} has no counterpart`
        : inKey && !KEY_TYPES.has(type) ? `key column of type ${type} (keys must be integer, bigint, text or decimal)`
        : undefined;
      if (problem !== undefined) {
        if (inKey) {
          skip = `key column ${c.name}: ${problem}`;
          break;
        }
        notes.push(`column ${t.name}.${c.name}: left out, ${problem}`);
        continue;
      }
      types.set(c.name, type as ColumnType);
      columns.push([c.name, `${type as ColumnType}${c.nullable && !inKey ? '?' : ''}` as ColumnSpec]);
    }
    if (skip !== undefined) {
      notes.push(`table ${t.name}: skipped, ${skip}`);
      continue;
    }
    const name = unique([entityNameOf(t.name), pascalCase(t.name), `${pascalCase(t.name)}Row`].filter((n) => isIdentifier(n) && !RESERVED_VIEW_NAMES.has(n)), taken);
    taken.add(name);
    entities.push({ name, table: t.name, key: t.primaryKey, columns, relations: [], types, db: t });
  }
  const byTable = new Map(entities.map((e) => [e.table, e]));
  const fieldNames = (e: GeneratedEntity) => new Set([...e.columns.map(([n]) => n), ...e.relations.map((r) => r.name), ...RESERVED_FIELDS]);
  for (const child of entities) {
    for (const fk of child.db.foreignKeys) {
      const where = `foreign key ${child.table}.${fk.name}`;
      const parent = byTable.get(fk.referencedTable);
      if (parent === undefined) {
        notes.push(`${where}: left out, table ${fk.referencedTable} is not an entity`);
        continue;
      }
      if (!sameSet(fk.referencedColumns, parent.key)) {
        notes.push(`${where}: left out, it references ${fk.referencedTable} (${fk.referencedColumns.join(', ')}), not its primary key`);
        continue;
      }
      // The child's columns in the order of the parent's key.
      const columns = parent.key.map((k) => fk.columns[fk.referencedColumns.indexOf(k)] as string);
      const mismatch = columns.find((c, i) => child.types.get(c) !== parent.types.get(parent.key[i] as string));
      if (mismatch !== undefined) {
        notes.push(`${where}: left out, ${child.table}.${mismatch} (${child.types.get(mismatch) ?? 'left out'}) does not match the type of the key it references`);
        continue;
      }
      const parentLc = lcFirst(parent.name);
      const stripped = columns.length === 1 ? stripIdSuffix(columns[0] as string) : undefined;
      const toName = stripped === undefined ? parentLc : camelCase(stripped);
      child.relations.push({
        name: unique([toName, parentLc, `${toName}Ref`], fieldNames(child)),
        kind: 'belongsTo',
        target: parent.name,
        foreignKey: columns,
      });
      const one = child.db.uniqueKeys.some((u) => sameSet(u, columns));
      const several = child.db.foreignKeys.filter((f) => f.referencedTable === parent.table).length > 1;
      const base = one ? lcFirst(child.name) : camelCase(child.table);
      const by = `${base}By${pascalCase(stripped ?? columns.join('_'))}`;
      parent.relations.push({
        name: unique(several ? [by] : [base, by], fieldNames(parent)),
        kind: one ? 'hasOne' : 'hasMany',
        target: child.name,
        foreignKey: columns,
      });
    }
  }
  const out = entities.map(({ name, table, key, columns, relations }) => ({ name, table, key, columns, relations }));
  // What defineSchema refuses would be a mistake here: check now, not in the user's program.
  defineSchema(toDefinitions(out) as never);
  return { entities: out, notes };
}

/** The generated schema as `entity(...)` definitions, for `defineSchema`. */
export function toDefinitions(entities: readonly GeneratedEntity[]): Record<string, EntityDef> {
  const kinds = { belongsTo, hasMany, hasOne };
  const keyOf = (cols: readonly string[]) => (cols.length === 1 ? (cols[0] as string) : cols);
  return Object.fromEntries(
    entities.map((e) => [
      e.name,
      entity({
        table: e.table,
        key: keyOf(e.key) as never,
        columns: Object.fromEntries(e.columns),
        relations: Object.fromEntries(e.relations.map((r): [string, RelationDef] => [r.name, kinds[r.kind](r.target, keyOf(r.foreignKey))])),
      }),
    ]),
  );
}

const str = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const list = (cols: readonly string[]): string => (cols.length === 1 ? str(cols[0] as string) : `[${cols.map(str).join(', ')}]`);

/**
 * The schema as a module to save and import as it is: `export const schema = defineSchema({...})`, valid
 * TypeScript and JavaScript alike.
 */
export function renderSchema(schema: GeneratedSchema, source: string): string {
  const used = new Set(['defineSchema', 'entity', ...schema.entities.flatMap((e) => e.relations.map((r) => r.kind))]);
  const imports = ['belongsTo', 'defineSchema', 'entity', 'hasMany', 'hasOne'].filter((n) => used.has(n));
  const lines = [
    `// Generated by \`asyncdbview introspect\` from ${source}.`,
    '// Relation names are guessed from foreign key and table names: rename them at will.',
    ...schema.notes.map((n) => `// Note: ${n}.`),
    `import { ${imports.join(', ')} } from 'asyncdbview';`,
    '',
    'export const schema = defineSchema({',
  ];
  for (const e of schema.entities) {
    lines.push(`  ${e.name}: entity({`, `    table: ${str(e.table)},`, `    key: ${list(e.key)},`, '    columns: {');
    for (const [name, spec] of e.columns) lines.push(`      ${name}: ${str(spec)},`);
    lines.push('    },');
    if (e.relations.length > 0) {
      lines.push('    relations: {');
      for (const r of e.relations) lines.push(`      ${r.name}: ${r.kind}(${str(r.target)}, ${list(r.foreignKey)}),`);
      lines.push('    },');
    }
    lines.push('  }),');
  }
  lines.push('});', '', 'export default schema;', '');
  return lines.join('\n');
}
