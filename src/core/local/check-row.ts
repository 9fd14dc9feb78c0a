// Checking the rows and column values a caller gives `put` and `patch`: each value of its column's type, or a TypeError naming the column.
import type { CompiledColumn, CompiledEntity } from '../schema.js';
import { describe, type Row } from '../values.js';

const EXPECTED: Record<CompiledColumn['type'], string> = {
  integer: 'a safe integer number',
  bigint: 'a bigint (or a safe integer number)',
  real: 'a finite number',
  decimal: 'a decimal string such as "12.50"',
  text: 'a string',
  boolean: 'a boolean',
  datetime: 'a valid Date',
  json: 'a JSON value',
  blob: 'a Buffer',
};

/** One value of `column`, canonical (a safe integer for a bigint column becomes a bigint), or a TypeError. */
export function checkValue(entity: CompiledEntity, column: CompiledColumn, value: unknown, what: string): unknown {
  if (value === null || value === undefined) {
    if (column.nullable) return null;
    throw new TypeError(`${what}: column ${column.name} of ${entity.name} is not nullable; got ${describe(value)}`);
  }
  const fail = (): never => {
    throw new TypeError(`${what}: column ${column.name} of ${entity.name} must be ${EXPECTED[column.type]} (it is ${column.type}); got ${describe(value)} (${typeof value})`);
  };
  switch (column.type) {
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? value : fail();
    case 'bigint':
      if (typeof value === 'bigint') return value;
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : fail();
    case 'real':
      return typeof value === 'number' && Number.isFinite(value) ? value : fail();
    case 'decimal':
      return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? value : fail();
    case 'text':
      return typeof value === 'string' ? value : fail();
    case 'boolean':
      return typeof value === 'boolean' ? value : fail();
    case 'datetime':
      return value instanceof Date && !Number.isNaN(value.getTime()) ? new Date(value.getTime()) : fail();
    case 'json': {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch {
        return fail();
      }
      return text === undefined ? fail() : (JSON.parse(text) as unknown);
    }
    case 'blob':
      return Buffer.isBuffer(value) ? Buffer.from(value) : fail();
  }
}

/** The caller's columns as a plain object, every name a column of `entity`, or a TypeError naming the first that is not. */
function ownColumns(entity: CompiledEntity, values: unknown, what: string): Record<string, unknown> {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) throw new TypeError(`${what}: expected an object of ${entity.name} columns, got ${describe(values)}`);
  for (const name of Object.keys(values)) {
    if (!entity.columnByName.has(name)) {
      throw new TypeError(`${what}: ${entity.name} has no column ${describe(name)}; its columns are ${entity.columns.map((c) => c.name).join(', ')}`);
    }
  }
  return values as Record<string, unknown>;
}

/** A whole row for `put`: every column checked (a nullable column left out is null). */
export function checkRow(entity: CompiledEntity, values: unknown, what: string): Row {
  const given = ownColumns(entity, values, what);
  const row: Row = {};
  for (const c of entity.columns) {
    if (!(c.name in given) && !c.nullable) throw new TypeError(`${what}: a whole ${entity.name} row is needed; column ${c.name} is missing`);
    row[c.name] = checkValue(entity, c, given[c.name], what);
  }
  return row;
}

/** The columns `patch` sets, checked; key columns cannot be patched (a row's key is its identity). */
export function checkPatch(entity: CompiledEntity, values: unknown, what: string): Row {
  const given = ownColumns(entity, values, what);
  const out: Row = {};
  for (const [name, value] of Object.entries(given)) {
    const c = entity.columnByName.get(name) as CompiledColumn;
    if (entity.key.columns.includes(c)) throw new TypeError(`${what}: ${name} is a key column of ${entity.name}; put a new row and remove the old one to change a key`);
    out[name] = checkValue(entity, c, value, what);
  }
  if (Object.keys(out).length === 0) throw new TypeError(`${what}: no column to set`);
  return out;
}
