// The entity lookup kind: rows by key, and keys the origin does not have.
import type { CompiledEntity } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import type { LoadContext } from './context.js';
import type { LookupKind } from './lookup-kind.js';

/**
 * Looking up rows of `entity` by key. A key's answer is its row, or `null` when the origin does not have
 * it (recorded absent in the cache, so that "does not exist" is an answer offline too).
 */
export function entityLookup(ctx: LoadContext, entity: CompiledEntity): LookupKind<Row | null> {
  const keyOf = entity.key.of;
  return {
    id: entity.name,
    maxAge: entity.maxAge,
    subject: (keys) => `${entity.name} ${keys.map((k) => String(displayKey(entity, k))).join(', ')}`,
    async read(keys, notBefore) {
      const read = await ctx.cache.readEntities(entity, keys, notBefore);
      const out = new Map<KeyValue, Row | null>();
      for (const row of read.rows) out.set(keyOf(row) as KeyValue, row);
      for (const key of read.absentKeys) out.set(key, null);
      return out;
    },
    select: (keys) => ctx.select({ entity, where: entity.key, keys }),
    answers(keys, rows) {
      const found = new Map<KeyValue, Row | null>();
      for (const key of keys) found.set(key, null);
      for (const row of rows) found.set(keyOf(row) as KeyValue, row);
      return found;
    },
    merge(keys, rows, readAt) {
      const absentKeys = rows.length === keys.length ? [] : absentOf(keys, rows, keyOf);
      return ctx.cache.merge({ entity, rows, loadedAt: readAt, entityKeys: keys, absentKeys });
    },
  };
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
