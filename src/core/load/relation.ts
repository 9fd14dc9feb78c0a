// The relation lookup kind (hasMany, hasOne, manyToMany): a parent key's whole group of target rows.
import { sortRows } from '../codec.js';
import type { CompiledRelation } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import type { LoadContext } from './context.js';
import type { LookupKind } from './lookup-kind.js';

/**
 * Looking up the target rows of `rel` by the source's key: one group per key, in the relation's order
 * (empty groups are answers too). For manyToMany each row carries the source key it came with as `$src`.
 */
export function relationLookup(ctx: LoadContext, rel: CompiledRelation): LookupKind<Row[]> {
  return {
    id: rel.id,
    maxAge: rel.maxAge,
    subject: (keys) => `${rel.id} for ${rel.source.name} ${keys.map(String).join(', ')}`,
    async read(keys, notBefore) {
      const read = await ctx.cache.readRelation(rel, keys, notBefore);
      const groups = groupRows(rel, read.rows);
      for (const key of read.emptyKeys) groups.set(key, []);
      return groups;
    },
    select: (keys) => ctx.select({ entity: rel.target, where: rel.foreignKey, keys, orderBy: rel.orderBy, through: rel.through }),
    answers(keys, rows) {
      const groups = groupRows(rel, rows);
      for (const key of keys) if (!groups.has(key)) groups.set(key, []);
      return groups;
    },
    merge: (keys, rows, readAt) => ctx.cache.merge({ entity: rel.target, rows, loadedAt: readAt, relation: { rel, keys } }),
  };
}

/**
 * Sorts rows once in the relation's order, then splits them by relation key, so each group keeps that
 * order. Only keys that have rows get a group.
 */
export function groupRows(rel: CompiledRelation, rows: Row[]): Map<KeyValue, Row[]> {
  sortRows(rows, rel.batchOrder);
  const keyOf = groupKeyOf(rel);
  const groups = new Map<KeyValue, Row[]>();
  for (const row of rows) {
    const key = keyOf(row) as KeyValue;
    const members = groups.get(key);
    if (members === undefined) groups.set(key, [row]);
    else members.push(row);
  }
  return groups;
}

/** The relation key a target row belongs to: its foreign key, or for manyToMany the source key it came with. */
function groupKeyOf(rel: CompiledRelation): (row: Row) => KeyValue | null {
  return rel.through === undefined ? rel.foreignKey.of : (row: Row) => row.$src as KeyValue;
}
