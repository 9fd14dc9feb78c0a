import type { ColumnType, CompiledColumn, CompiledEntity } from './schema.js';
import { describe, type KeyValue, type Row } from './values.js';

export type { KeyValue, Row } from './values.js';

/**
 * Checks and normalises a key for `entity`'s key column, so the same row is always found under the same
 * Map key. Throws a TypeError naming the bad value and the expected type.
 */
export function normalizeKey(entity: CompiledEntity, key: unknown): KeyValue {
  const columns = entity.key.columns;
  if (columns.length === 1) return component(entity, columns[0] as CompiledColumn, key, key);
  let values: unknown[];
  if (Array.isArray(key) && key.length === columns.length) values = key;
  else if (key !== null && typeof key === 'object' && !Array.isArray(key)) values = columns.map((c) => (key as Record<string, unknown>)[c.name]);
  else {
    throw new TypeError(
      `${entity.name}: key must be [${columns.map((c) => c.name).join(', ')}] (an array in that order, or an object with those fields); got ${describe(key)}`,
    );
  }
  return JSON.stringify(columns.map((c, i) => {
    const v = component(entity, c, values[i], key);
    return typeof v === 'bigint' ? String(v) : v;
  }));
}

function component(entity: CompiledEntity, column: CompiledColumn, value: unknown, whole: unknown): KeyValue {
  const normalized = toKey(column.type, value);
  if (normalized === undefined) {
    const part = value === whole ? '' : ` in key ${describe(whole)}`;
    throw new TypeError(
      `${entity.name}: key ${column.name} must be ${KEY_EXPECTED[column.type]} (column ${entity.table}.${column.name} is ${column.type}); got ${describe(value)}${value === null || value === undefined ? '' : ` (${typeof value})`}${part}`,
    );
  }
  return normalized;
}

const KEY_EXPECTED: Partial<Record<ColumnType, string>> = {
  integer: 'a safe integer number',
  bigint: 'a bigint (or a safe integer number)',
  text: 'a well-formed string (no lone surrogates)',
  decimal: 'a decimal string such as "12.50"',
};

function toKey(type: ColumnType, key: unknown): KeyValue | undefined {
  switch (type) {
    case 'integer':
      if (typeof key === 'number' && Number.isSafeInteger(key)) return key;
      if (typeof key === 'bigint' && key >= Number.MIN_SAFE_INTEGER && key <= Number.MAX_SAFE_INTEGER) return Number(key);
      return undefined;
    case 'bigint':
      if (typeof key === 'bigint') return key;
      if (typeof key === 'number' && Number.isSafeInteger(key)) return BigInt(key);
      return undefined;
    case 'text':
      // A lone surrogate cannot be stored as UTF-8: no database could give the same key back.
      return typeof key === 'string' && !LONE_SURROGATE.test(key) ? key : undefined;
    case 'decimal':
      return typeof key === 'string' && /^-?\d+(\.\d+)?$/.test(key) ? key : undefined;
    default:
      return undefined;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A function that turns one source's representation of a column into its canonical JavaScript value. */
export type Decoder = (value: unknown) => unknown;

/** Canonical decoders: each accepts every representation a driver or the cache uses for the type. */
export const DECODERS: Readonly<Partial<Record<ColumnType, Decoder>>> = {
  bigint: (v) => (v === null || typeof v === 'bigint' ? v : BigInt(v as string | number)),
  decimal: (v) => (v === null || typeof v === 'string' ? v : String(v)),
  boolean: (v) => (v === null || typeof v === 'boolean' ? v : Number(v) !== 0),
  datetime: (v) => (v === null || v instanceof Date ? v : typeof v === 'number' ? new Date(v) : parseSqlDate(String(v))),
  json: (v) => (typeof v === 'string' ? JSON.parse(v) : v),
  blob: (v) => (v === null || Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v as Uint8Array)),
};

/** `YYYY-MM-DD[ HH:MM:SS[.ffffff]][Z|±hh:mm]`, read as UTC when no offset is given. */
function parseSqlDate(text: string): Date {
  const iso = text.includes('T') ? text : text.replace(' ', 'T');
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) || iso.length <= 10 ? iso : iso + 'Z');
}

/** The columns of an entity that need a decoder for a source, with it, computed once per entity and source. */
export interface DecodePlan {
  readonly names: readonly string[];
  readonly decoders: readonly Decoder[];
}

/** Plans decoding of `entity` rows: only columns whose type is in `types` get a decoder. */
export function planDecode(entity: CompiledEntity, types: ReadonlySet<ColumnType>, overrides?: Partial<Record<ColumnType, Decoder>>): DecodePlan {
  const cols = entity.columns.filter((c) => types.has(c.type));
  return {
    names: cols.map((c) => c.name),
    decoders: cols.map((c) => overrides?.[c.type] ?? (DECODERS[c.type] as Decoder)),
  };
}

/** Decodes rows in place, column by column (per batch, not per row: the plan is computed once). */
export function decodeRows(rows: Row[], plan: DecodePlan): void {
  const { names, decoders } = plan;
  for (let c = 0; c < names.length; c++) {
    const name = names[c] as string;
    const decode = decoders[c] as Decoder;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Row;
      const v = row[name];
      if (v !== null && v !== undefined) row[name] = decode(v);
    }
  }
}

/** Compares two canonical values of one column type: NULL first, then by value (code units for text). */
export function compareValues(type: ColumnType, a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  switch (type) {
    case 'datetime':
      return (a as Date).getTime() - (b as Date).getTime();
    case 'blob':
      return Buffer.compare(a as Buffer, b as Buffer);
    case 'decimal': {
      const na = Number(a);
      const nb = Number(b);
      if (na !== nb) return na < nb ? -1 : 1;
      break;
    }
    case 'json':
      a = JSON.stringify(a);
      b = JSON.stringify(b);
      break;
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/**
 * Sorts rows by `columns` unless they already are (the usual case when the database ordered them),
 * so relations come out in the same order from the origin and from the cache whatever their collations.
 */
export function sortRows(rows: Row[], columns: readonly CompiledColumn[]): void {
  const compare = (x: Row, y: Row): number => {
    for (const c of columns) {
      const d = compareValues(c.type, x[c.name], y[c.name]);
      if (d !== 0) return d;
    }
    return 0;
  };
  for (let i = 1; i < rows.length; i++) {
    if (compare(rows[i - 1] as Row, rows[i] as Row) > 0) {
      rows.sort(compare);
      return;
    }
  }
}

/**
 * The canonical text of custom-query parameters, used as their completeness key: the same values give
 * the same text, and bigints, dates and buffers keep their type. Unsupported values throw a TypeError
 * naming the parameter.
 */
export function encodeParams(params: readonly unknown[], where: string): string {
  if (!Array.isArray(params)) throw new TypeError(`${where}: params must be an array, got ${describe(params)}`);
  const parts = params.map((p, i) => {
    if (p === null || typeof p === 'string' || typeof p === 'boolean') return p;
    if (typeof p === 'number') {
      if (!Number.isFinite(p)) throw new TypeError(`${where}: params[${i}] must be a finite number, got ${describe(p)}`);
      return p;
    }
    if (typeof p === 'bigint') return { bigint: String(p) };
    if (p instanceof Date) {
      if (Number.isNaN(p.getTime())) throw new TypeError(`${where}: params[${i}] is an invalid Date`);
      return { date: p.toISOString() };
    }
    if (Buffer.isBuffer(p)) return { hex: p.toString('hex') };
    throw new TypeError(`${where}: params[${i}] must be a string, number, boolean, null, bigint, Date or Buffer; got ${describe(p)}`);
  });
  return JSON.stringify(parts);
}

/** The inverse of {@link encodeParams}. */
export function decodeParams(text: string): unknown[] {
  return (JSON.parse(text) as unknown[]).map((p) => {
    if (p === null || typeof p !== 'object') return p;
    const o = p as { bigint?: string; date?: string; hex?: string };
    if (o.bigint !== undefined) return BigInt(o.bigint);
    if (o.date !== undefined) return new Date(o.date);
    return Buffer.from(o.hex ?? '', 'hex');
  });
}
