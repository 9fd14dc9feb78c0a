// The entity lookup kind: rows by key, and keys the origin does not have.
import { compareExactly, type CompiledEntity } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import type { LoadContext } from './context.js';
import type { LookupKind } from './lookup-kind.js';

/**
 * Looking up rows of `entity` by key. A key's answer is its row, or `null` when the origin does not have
 * it (recorded absent in the cache, so that "does not exist" is an answer offline too).
 *
 * A key that may match another spelling at the origin (text under a collation, DECIMAL, dates) is asked
 * so that each row says which asked key it answers (`$i`): `'ABC'` answers the row `'abc'` when the
 * origin's own `WHERE key = 'ABC'` does, and the cache records that alias with the key's mark.
 */
export function entityLookup(ctx: LoadContext, entity: CompiledEntity): LookupKind<Row | null> {
  const keyOf = entity.key.of;
  const asked = !compareExactly(entity.key);
  return {
    id: entity.name,
    maxAge: entity.maxAge,
    subject: (keys) => `${entity.name} ${keys.map((k) => String(displayKey(entity, k))).join(', ')}`,
    async read(keys, notBefore) {
      const read = await ctx.cache.readEntities(entity, keys, notBefore);
      const out = new Map<KeyValue, Row | null>();
      for (const row of read.rows) out.set(keyOf(row) as KeyValue, row);
      for (const key of read.absentKeys) out.set(key, null);
      if (read.aliased !== undefined) for (const [key, row] of read.aliased) out.set(key, row);
      return out;
    },
    select: (keys) => ctx.select({ entity, where: entity.key, keys, ...(asked ? { asked } : {}) }),
    answers(keys, rows) {
      const found = new Map<KeyValue, Row | null>();
      for (const key of keys) found.set(key, null);
      if (asked) for (const row of rows) found.set(keys[Number(row.$i)] as KeyValue, row);
      else for (const row of rows) found.set(keyOf(row) as KeyValue, row);
      return found;
    },
    merge(keys, rows, readAt) {
      if (!asked) {
        const absentKeys = rows.length === keys.length ? [] : absentOf(keys, rows, keyOf);
        return ctx.cache.merge({ entity, rows, loadedAt: readAt, entityKeys: keys, absentKeys });
      }
      const answer = byAskedKey(entity, keys, rows);
      return ctx.cache.merge({ entity, loadedAt: readAt, ...answer });
    },
  };
}

/**
 * An answer read with asked keys (`$i`), as the cache records it: each row once; the keys no row answers
 * (absent); the keys a row of another spelling answers (aliases; for a composite key they are left
 * unmarked, answered online only).
 */
function byAskedKey(entity: CompiledEntity, keys: readonly KeyValue[], tagged: readonly Row[]) {
  const keyOf = entity.key.of;
  const rows: Row[] = [];
  const seen = new Set<KeyValue>();
  const answered = new Set<KeyValue>();
  const aliases: [KeyValue, KeyValue][] = [];
  for (const row of tagged) {
    const asked = keys[Number(row.$i)] as KeyValue;
    const key = keyOf(row) as KeyValue;
    answered.add(asked);
    if (asked !== key) aliases.push([asked, key]);
    if (!seen.has(key)) {
      seen.add(key);
      rows.push(row);
    }
  }
  const absentKeys = keys.filter((k) => !answered.has(k));
  if (!entity.key.composite || aliases.length === 0) return { rows, entityKeys: keys, absentKeys, aliases };
  const unmarked = new Set(aliases.map(([asked]) => asked));
  return { rows, entityKeys: keys.filter((k) => !unmarked.has(k)), absentKeys };
}

/** The asked keys no row answers. */
export function absentOf(keys: readonly KeyValue[], rows: readonly Row[], keyOf: (row: Row) => KeyValue | null): KeyValue[] {
  const found = new Set<KeyValue | null>();
  for (const row of rows) found.add(keyOf(row));
  return keys.filter((k) => !found.has(k));
}

/** A key as the caller gave it: a composite's components rather than its canonical text. */
export function displayKey(entity: CompiledEntity, key: KeyValue): unknown {
  return entity.key.composite ? entity.key.components(key) : key;
}
