import { belongsTo, defineSchema, entity, hasMany, hasOne, manyToMany, RESERVED_TABLES, RESERVED_VIEW_NAMES, type ColumnSpec, type ColumnType, type EntityDef, type RelationDef } from '../core/schema.js';
import { columnTypeOf } from './column-type.js';
import { plural } from './inflection.js';
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
  readonly kind: 'belongsTo' | 'hasMany' | 'hasOne' | 'manyToMany';
  readonly target: string;
  /** The foreign key columns; empty for a manyToMany, which has `through` instead. */
  readonly foreignKey: readonly string[];
  /** A manyToMany's join table: `sourceKey` references this entity's key, `targetKey` the target's. */
  readonly through?: { readonly table: string; readonly sourceKey: string; readonly targetKey: string };
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
 * `hasOne`, when the foreign key columns are unique) on the parent. A pure join table (two columns, both
 * its primary key, each a foreign key to a single-column key) is no entity: it becomes a `manyToMany` on
 * both sides. Tables without a primary key, and columns or foreign keys the schema cannot express, are
 * left out with a note. The naming rules are in {@link relationNames}.
 */
export function generateSchema(tables: readonly DbTable[]): GeneratedSchema {
  const notes: string[] = [];
  const all: Built[] = [];
  const taken = new Set<string>();
  for (const t of tables) {
    const built = buildEntity(t, taken, notes);
    if (built === undefined) continue;
    taken.add(built.name);
    all.push(built);
  }
  const byTable = new Map(all.map((e) => [e.table, e]));
  const joins = new Map<Built, JoinTable>();
  for (const e of all) {
    const join = joinTableOf(e, byTable);
    if (join !== undefined) joins.set(e, join);
  }
  const entities = all.filter((e) => !joins.has(e));
  for (const [e] of joins) byTable.delete(e.table);
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
      const one = child.db.uniqueKeys.some((u) => sameSet(u, columns));
      const several = child.db.foreignKeys.filter((f) => f.referencedTable === parent.table).length > 1;
      const names = relationNames(child.name, parent.name, columns, { one, several });
      child.relations.push({ name: unique(names.belongsTo, fieldNames(child)), kind: 'belongsTo', target: parent.name, foreignKey: columns });
      parent.relations.push({ name: unique(names.inverse, fieldNames(parent)), kind: one ? 'hasOne' : 'hasMany', target: child.name, foreignKey: columns });
    }
  }
  for (const join of joins.values()) {
    const [a, b] = join.sides;
    for (const [from, to] of [[a, b], [b, a]] as const) {
      // Named after the other side (`playlist.tracks`); a table joining an entity to itself, after the column.
      const base = from.entity === to.entity ? camelCase(stripIdSuffix(to.column) ?? to.column) : lcFirst(to.entity.name);
      from.entity.relations.push({
        name: unique([plural(base), `${plural(base)}Via${pascalCase(join.table)}`], fieldNames(from.entity)),
        kind: 'manyToMany',
        target: to.entity.name,
        foreignKey: [],
        through: { table: join.table, sourceKey: from.column, targetKey: to.column },
      });
    }
  }
  const out = entities.map(({ name, table, key, columns, relations }) => ({ name, table, key, columns, relations }));
  // What defineSchema refuses would be a mistake here: check now, not in the user's program.
  defineSchema(toDefinitions(out) as never);
  return { entities: out, notes };
}

/**
 * The candidate names of the two ends of a foreign key, best first (a taken name falls to the next):
 * - `belongsTo` on the child: the foreign key column without its `_id`/`Id`/`ID` suffix, in camelCase
 *   (`author_id` → `author`, `SupportRepId` → `supportRep`); a column with no such suffix is named as it
 *   is (`ReportsTo` → `reportsTo`); a composite foreign key after the parent entity (`region`).
 * - `hasMany` on the parent: the child entity in the plural (`albums`, `invoiceLines`); `hasOne`: singular.
 *   When the child references the parent through several foreign keys, or references itself, the column
 *   is added: `<children>By<Column>` (`employeesByReportsTo`, `messagesBySender`).
 */
export function relationNames(
  child: string,
  parent: string,
  columns: readonly string[],
  { one, several }: { one: boolean; several: boolean },
): { belongsTo: string[]; inverse: string[] } {
  const parentLc = lcFirst(parent);
  const column = columns.length === 1 ? (columns[0] as string) : undefined;
  const stripped = column === undefined ? undefined : stripIdSuffix(column);
  const toName = column === undefined ? parentLc : camelCase(stripped ?? column);
  const base = one ? lcFirst(child) : plural(lcFirst(child));
  const by = `${base}By${pascalCase(stripped ?? columns.join('_'))}`;
  return {
    belongsTo: [toName, parentLc, `${toName}Ref`],
    inverse: several || child === parent ? [by] : [base, by],
  };
}

type Built = GeneratedEntity & { relations: GeneratedRelation[]; types: Map<string, ColumnType>; db: DbTable };

/** A pure join table: its two columns, each with the entity its foreign key references. */
interface JoinTable {
  readonly table: string;
  readonly sides: readonly [{ column: string; entity: Built }, { column: string; entity: Built }];
}

/**
 * The join table `e` is, or undefined: exactly two columns, both making up the primary key, each a
 * single-column foreign key to the (single-column) primary key of an entity, of the same type. A table with
 * any other column stays an entity: its rows carry data of their own (and so does one that other tables'
 * foreign keys reference).
 */
function joinTableOf(e: Built, byTable: ReadonlyMap<string, Built>): JoinTable | undefined {
  const fks = e.db.foreignKeys;
  if (e.db.columns.length !== 2 || e.columns.length !== 2 || e.key.length !== 2 || fks.length !== 2) return undefined;
  const sides = fks.map((fk) => {
    const column = fk.columns[0] as string;
    const entity = byTable.get(fk.referencedTable);
    if (fk.columns.length !== 1 || entity === undefined || entity.key.length !== 1 || entity.key[0] !== fk.referencedColumns[0]) return undefined;
    if (e.types.get(column) !== entity.types.get(entity.key[0] as string)) return undefined;
    return { column, entity };
  });
  const [a, b] = sides;
  if (a === undefined || b === undefined || a.column === b.column || !sameSet([a.column, b.column], e.key)) return undefined;
  // A table other tables' foreign keys reference stays an entity, so those keep their relations.
  for (const other of byTable.values()) if (other.db.foreignKeys.some((fk) => fk.referencedTable === e.table)) return undefined;
  return { table: e.table, sides: [a, b] };
}

/** An entity for table `t`, or undefined (with a note) when the schema cannot express it. */
function buildEntity(t: DbTable, taken: ReadonlySet<string>, notes: string[]): Built | undefined {
  if (!isIdentifier(t.name)) {
    notes.push(`table ${t.name}: skipped, its name is not an identifier`);
    return undefined;
  }
  if (RESERVED_TABLES.has(t.name)) {
    notes.push(`table ${t.name}: skipped, the name is reserved for the cache's own tables`);
    return undefined;
  }
  if (t.primaryKey.length === 0) {
    notes.push(`table ${t.name}: skipped, it has no primary key`);
    return undefined;
  }
  const columns: [string, ColumnSpec][] = [];
  const types = new Map<string, ColumnType>();
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
        notes.push(`table ${t.name}: skipped, key column ${c.name}: ${problem}`);
        return undefined;
      }
      notes.push(`column ${t.name}.${c.name}: left out, ${problem}`);
      continue;
    }
    types.set(c.name, type as ColumnType);
    columns.push([c.name, `${type as ColumnType}${c.nullable && !inKey ? '?' : ''}` as ColumnSpec]);
  }
  const name = unique([entityNameOf(t.name), pascalCase(t.name), `${pascalCase(t.name)}Row`].filter((n) => isIdentifier(n) && !RESERVED_VIEW_NAMES.has(n)), taken);
  return { name, table: t.name, key: t.primaryKey, columns, relations: [], types, db: t };
}

/** The generated schema as `entity(...)` definitions, for `defineSchema`. */
export function toDefinitions(entities: readonly GeneratedEntity[]): Record<string, EntityDef> {
  const kinds = { belongsTo, hasMany, hasOne };
  const keyOf = (cols: readonly string[]) => (cols.length === 1 ? (cols[0] as string) : cols);
  const relation = (r: GeneratedRelation): RelationDef =>
    r.through !== undefined ? manyToMany(r.target, { through: r.through.table, sourceKey: r.through.sourceKey, targetKey: r.through.targetKey })
    : kinds[r.kind as keyof typeof kinds](r.target, keyOf(r.foreignKey));
  return Object.fromEntries(
    entities.map((e) => [
      e.name,
      entity({
        table: e.table,
        key: keyOf(e.key) as never,
        columns: Object.fromEntries(e.columns),
        relations: Object.fromEntries(e.relations.map((r): [string, RelationDef] => [r.name, relation(r)])),
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
  const imports = ['belongsTo', 'defineSchema', 'entity', 'hasMany', 'hasOne', 'manyToMany'].filter((n) => used.has(n));
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
      for (const r of e.relations) {
        const how = r.through === undefined ? list(r.foreignKey) : `{ through: ${str(r.through.table)}, sourceKey: ${str(r.through.sourceKey)}, targetKey: ${str(r.through.targetKey)} }`;
        lines.push(`      ${r.name}: ${r.kind}(${str(r.target)}, ${how}),`);
      }
      lines.push('    },');
    }
    lines.push('  }),');
  }
  lines.push('});', '', 'export default schema;', '');
  return lines.join('\n');
}
