// What each completeness mark stands on: how many rows and which keys (a checksum), so verify can prove it.
import type { KeyValue, Row } from '../../core/codec.js';
import type { CompiledKey } from '../../core/schema.js';
import { encodeKey } from './encoders.js';

/**
 * What a mark records of its answer: `n` (entity marks: 1 present, 0 absent; relation and query marks:
 * how many rows) and `sum` (relation and query marks: a checksum of the member keys, in any order).
 */
export interface Backing {
  readonly n: number;
  readonly sum: number | null;
}

/** FNV-1a (32 bits) of a key's stored form, as JSON text. */
function keyHash(key: KeyValue): number {
  const text = JSON.stringify(encodeKey(key));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Accumulates member keys into backings, by the key of the lookup they answer. */
export class BackingTally {
  readonly #by = new Map<string, { n: number; sum: number }>();

  /** Counts `member` under the lookup key `of` (both canonical, or both as stored: bigints as BigInt or text). */
  add(of: KeyValue, member: KeyValue): void {
    const id = JSON.stringify(encodeKey(of));
    const b = this.#by.get(id) ?? { n: 0, sum: 0 };
    b.n++;
    b.sum = (b.sum + keyHash(member)) >>> 0;
    this.#by.set(id, b);
  }

  /** The backing of the lookup key `of`: no member at all is n 0, sum 0. */
  get(of: KeyValue | unknown): Backing {
    const b = this.#by.get(JSON.stringify(encodeKey(of)));
    return b === undefined ? { n: 0, sum: 0 } : b;
  }

  /**
   * Tallies `rows` (canonical) by `groupOf`, members by `key`; `distinct`: a member counts once in a group
   * (a relation's members are rows of a table, one per key; a custom query records each row it returned).
   */
  static of(rows: readonly Row[], groupOf: (row: Row) => KeyValue | null, key: CompiledKey, distinct: boolean): BackingTally {
    const tally = new BackingTally();
    const seen = new Set<string>();
    for (const row of rows) {
      const g = groupOf(row);
      if (g === null) continue;
      const member = key.of(row) as KeyValue;
      if (distinct) {
        const pair = JSON.stringify([encodeKey(g), encodeKey(member)]);
        if (seen.has(pair)) continue;
        seen.add(pair);
      }
      tally.add(g, member);
    }
    return tally;
  }
}
