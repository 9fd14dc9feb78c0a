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

/** FNV-1a (32 bits) of a key's stored form, as JSON text (a finite number's JSON text is its String()). */
function keyHash(key: KeyValue): number {
  const stored = encodeKey(key);
  const text = typeof stored === 'number' && Number.isFinite(stored) ? String(stored) : JSON.stringify(stored);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A key's stored form as a Map key: primitives as they are, bytes by their content. */
function idOf(key: unknown): unknown {
  const stored = encodeKey(key);
  return typeof stored === 'object' && stored !== null ? `\u0000${JSON.stringify(stored)}` : stored;
}

/**
 * Accumulates member keys into backings, by the key of the lookup they answer. Keys are held by their
 * stored form, a primitive (a bigint as its text), so a Map tells them apart as the file does: 7 and '7'
 * are two keys.
 */
export class BackingTally {
  readonly #by = new Map<unknown, { n: number; sum: number }>();

  /** Counts `member` under the lookup key `of` (both canonical, or both as stored: bigints as BigInt or text). */
  add(of: KeyValue, member: KeyValue): void {
    const id = idOf(of);
    const b = this.#by.get(id);
    if (b === undefined) this.#by.set(id, { n: 1, sum: keyHash(member) });
    else {
      b.n++;
      b.sum = (b.sum + keyHash(member)) >>> 0;
    }
  }

  /** The backing of the lookup key `of`: no member at all is n 0, sum 0. */
  get(of: KeyValue | unknown): Backing {
    const b = this.#by.get(idOf(of));
    return b === undefined ? { n: 0, sum: 0 } : b;
  }

  /**
   * Tallies `rows` (canonical) by `groupOf`, members by `key`; `distinct`: a member counts once in a group
   * (a relation's members are rows of a table, one per key; a custom query records each row it returned).
   */
  static of(rows: readonly Row[], groupOf: (row: Row) => KeyValue | null, key: CompiledKey, distinct: boolean): BackingTally {
    const tally = new BackingTally();
    const seen = distinct ? new Map<unknown, Set<unknown>>() : undefined;
    for (const row of rows) {
      const g = groupOf(row);
      if (g === null) continue;
      const member = key.of(row) as KeyValue;
      if (seen !== undefined) {
        const group = idOf(g);
        let members = seen.get(group);
        if (members === undefined) seen.set(group, (members = new Set()));
        const m = idOf(member);
        if (members.has(m)) continue;
        members.add(m);
      }
      tally.add(g, member);
    }
    return tally;
  }
}
