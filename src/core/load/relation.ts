// The relation lookup kind (hasMany, hasOne, manyToMany): a parent key's whole group of target rows.
import { sortRows } from '../codec.js';
import { compareExactly, type CompiledRelation } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import type { LoadContext } from './context.js';
import type { LookupKind } from './lookup-kind.js';

/**
 * Looking up the target rows of `rel` by the source's key: one group per key, in the relation's order
 * (empty groups are answers too). For manyToMany each row carries the source key it came with as `$src`.
 */
export function relationLookup(ctx: LoadContext, rel: CompiledRelation): LookupKind<Row[]> {
  // A key that may match another spelling at the origin: each row says which asked key it answers.
  const asked = !compareExactly(rel.foreignKey);
  return {
    id: rel.id,
    maxAge: rel.maxAge,
    subject: (keys) => `${rel.id} for ${rel.source.name} ${keys.map(String).join(', ')}`,
    async read(keys, notBefore) {
      const read = await ctx.cache.readRelation(rel, keys, notBefore);
      const groups = groupRows(rel, read.rows);
      // A manyToMany link whose target row is gone (removed locally) reads as a NULL row: the key's other rows stand.
      for (const key of read.emptyKeys) if (!groups.has(key)) groups.set(key, []);
      return groups;
    },
    select: (keys) => ctx.select({ entity: rel.target, where: rel.foreignKey, keys, orderBy: rel.orderBy, through: rel.through, ...(asked ? { asked } : {}) }),
    answers(keys, rows) {
      const groups = asked ? groupAsked(rel, keys, rows) : groupRows(rel, rows);
      for (const key of keys) if (!groups.has(key)) groups.set(key, []);
      return groups;
    },
    merge(keys, rows, readAt) {
      if (!asked) return ctx.cache.merge({ entity: rel.target, rows, loadedAt: readAt, relation: { rel, keys } });
      // The cache groups rows by their own spelling of the key: a key answered by rows of another spelling
      // is answered online but not recorded complete. Each row (each link) is written once.
      const groupKey = groupKeyOf(rel);
      const unmarked = new Set<KeyValue>();
      const written = new Map<string, Row>();
      for (const row of rows) {
        const key = keys[Number(row.$i)] as KeyValue;
        if (groupKey(row) !== key) unmarked.add(key);
        written.set(`${String(rel.target.key.of(row))}\u0000${String(row.$src)}`, row);
      }
      return ctx.cache.merge({ entity: rel.target, rows: [...written.values()], loadedAt: readAt, relation: { rel, keys, unmarked: [...unmarked] } });
    },
  };
}

/** Rows read with asked keys (`$i`) split by the key each answers, in the relation's order. */
function groupAsked(rel: CompiledRelation, keys: readonly KeyValue[], rows: Row[]): Map<KeyValue, Row[]> {
  const groups = new Map<KeyValue, Row[]>();
  for (const row of rows) {
    const key = keys[Number(row.$i)] as KeyValue;
    const members = groups.get(key);
    if (members === undefined) groups.set(key, [row]);
    else members.push(row);
  }
  // Within a group the key's spellings may differ: order by the relation's own order only.
  const order = rel.batchOrder.slice(rel.through === undefined ? rel.foreignKey.columns.length : 1);
  for (const members of groups.values()) sortRows(members, order);
  return groups;
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
