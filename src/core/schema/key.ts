import type { KeyValue, Row } from '../values.js';
import type { CompiledColumn } from './columns.js';

/**
 * @internal A key over one or more columns: an entity's key, a foreign key, or a join table's source
 * column. A single-column key's value is the column's canonical value; a composite key's value is the
 * canonical JSON text of its components (bigints as decimal strings), so either can key a Map and the
 * cache's ever-loaded table alike.
 */
export interface CompiledKey {
  readonly columns: readonly CompiledColumn[];
  readonly composite: boolean;
  /** The key of a row with canonical values; `null` when a component is NULL. */
  readonly of: (row: Row) => KeyValue | null;
  /** The key of a row as the cache stores it (bigints as text). */
  readonly ofStored: (row: Row) => KeyValue | null;
  /** The components of a key value, canonical (bigints as bigint). */
  readonly components: (key: KeyValue) => unknown[];
}

/** @internal */
export function compileKey(columns: readonly CompiledColumn[]): CompiledKey {
  if (columns.length === 1) {
    const name = (columns[0] as CompiledColumn).name;
    const isBig = (columns[0] as CompiledColumn).type === 'bigint';
    return {
      columns,
      composite: false,
      of: (row) => (row[name] ?? null) as KeyValue | null,
      ofStored: (row) => {
        const v = row[name];
        return v === null || v === undefined ? null : isBig ? BigInt(v as string) : (v as KeyValue);
      },
      components: (key) => [key],
    };
  }
  const names = columns.map((c) => c.name);
  const big = columns.map((c) => c.type === 'bigint');
  const text = (values: unknown[]): KeyValue | null => {
    for (const v of values) if (v === null || v === undefined) return null;
    return JSON.stringify(values.map((v) => (typeof v === 'bigint' ? String(v) : v)));
  };
  return {
    columns,
    composite: true,
    of: (row) => text(names.map((n) => row[n])),
    ofStored: (row) => text(names.map((n) => row[n])),
    components: (key) => (JSON.parse(key as string) as unknown[]).map((v, i) => (big[i] ? BigInt(v as string) : v)),
  };
}

/**
 * @internal Whether every value of `key` equals only itself at the origin as in the cache: integers and
 * bytes do; text (collations: case, trailing spaces), DECIMAL, dates and reals may match another spelling.
 */
export function compareExactly(key: CompiledKey): boolean {
  return key.columns.every((c) => c.type === 'integer' || c.type === 'bigint' || c.type === 'blob');
}
