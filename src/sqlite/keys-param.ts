// The JSON text of a list of keys for SQLite's `json_each(?)`: how every SQLite statement here takes keys.
import type { KeyValue } from '../core/codec.js';
import type { CompiledKey } from '../core/schema.js';

/**
 * @internal The text of `keys` for `json_each(?)`: values for a single column, canonical texts for
 * composites. Bigints are JSON strings (exact whatever their size) unless `bigintAsNumber`, for a SQLite
 * origin whose INTEGER columns hold them as numbers.
 */
export function keysParam(key: CompiledKey, keys: readonly KeyValue[], bigintAsNumber: boolean): string {
  if (key.composite) return JSON.stringify(keys);
  let out = '[';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (i > 0) out += ',';
    out += typeof k === 'bigint' ? (bigintAsNumber ? String(k) : `"${k}"`) : JSON.stringify(k);
  }
  return out + ']';
}
