import { sortRows, type KeyValue, type Row } from './codec.js';
import { fetchClaimed } from './claimed-fetch.js';
import type { EntityObject } from './entity-class.js';
import { IsOfflineError, isUnreachable } from './errors.js';
import { Mode, readsCacheFirst } from './mode.js';
import type { CompiledRelation } from './schema.js';
import type { ViewState } from './view-state.js';

/** What a relation lookup resolves to: the group for hasMany, one object or null for hasOne. */
export type RelationValue = readonly EntityObject[] | EntityObject | null | unknown;

const EMPTY: readonly EntityObject[] = Object.freeze([]);

/**
 * The batch function behind a view's hasMany/hasOne loader: one cache statement for the keys recorded
 * complete (unless FRESHEN), one origin statement per batch-size chunk for the rest, merged into the
 * cache (rows, marks and removal of rows that left the relation) before the whole batch resolves.
 */
export async function loadRelation(
  view: ViewState,
  rel: CompiledRelation,
  mode: Mode,
  keys: readonly KeyValue[],
  force = false,
): Promise<(RelationValue | Error)[]> {
  view.assertLive(`load ${rel.id}`);
  const groups = new Map<KeyValue, EntityObject[]>();
  const complete = new Set<KeyValue>();
  let missing: readonly KeyValue[] = keys;

  const askedAt = Date.now();
  const notBefore = readsCacheFirst(mode) && rel.maxAge !== undefined ? askedAt - rel.maxAge : undefined;
  // What another process's answer must be at least as new as, to stand for this lookup.
  const since = mode === Mode.FRESHEN ? askedAt : notBefore;
  if (mode !== Mode.FRESHEN) {
    const read = await view.core.cache.readRelation(rel, keys, notBefore);
    group(view, rel, read.rows, false, groups, complete);
    for (const key of read.emptyKeys) complete.add(key);
    missing = keys.filter((k) => !complete.has(k));
  }
  view.core.count(rel.id, keys.length - missing.length, missing.length);

  let failure: Error | undefined;
  if (missing.length > 0) {
    if (mode === Mode.OFFLINE || !view.core.hasOrigin) {
      if (!rel.hasFallback) {
        const why = view.core.hasOrigin ? 'the view is offline' : 'the store has no origin';
        failure = new IsOfflineError(`${rel.id} is not in the cache for ${rel.source.name} ${missing.map(String).join(', ')} and ${why}`);
      }
    } else {
      const kind = `r:${rel.id}`;
      const keyOf = groupKeyOf(rel);
      const byKey = (rows: Row[], keys: readonly KeyValue[]) => {
        const out = new Map<KeyValue, Row[]>();
        for (const key of keys) out.set(key, []);
        for (const row of rows) out.get(keyOf(row) as KeyValue)?.push(row);
        return out;
      };
      // A forced read (refresh) shares only loads begun after it; FRESHEN only those begun after the view.
      const shareSince = force ? view.core.inflight.next() : mode === Mode.FRESHEN ? view.born : 0;
      const shared = await view.core.inflight.share(kind, missing, shareSince, (mine) =>
        fetchClaimed<Row[]>(
          view.core,
          { kind: rel.id, since: since ?? 0 },
          mine,
          async (claimed) => {
            const rows = await view.core.select({ entity: rel.target, where: rel.foreignKey, keys: claimed, orderBy: rel.orderBy, through: rel.through });
            sortRows(rows, rel.batchOrder);
            await view.core.cache.merge({ entity: rel.target, rows, loadedAt: Date.now(), relation: { rel, keys: claimed } });
            return byKey(rows, claimed);
          },
          async (others) => {
            const read = await view.core.cache.readRelation(rel, others, since);
            const done = new Set<KeyValue>(read.emptyKeys);
            for (const row of read.rows) done.add(keyOf(row) as KeyValue);
            return byKey(read.rows, [...done]);
          },
        ),
      );
      const fallback: KeyValue[] = [];
      for (const key of missing) {
        const error = shared.errors.get(key);
        if (error !== undefined) {
          if (mode === Mode.OFFLINE_FALLBACK && isUnreachable(error)) fallback.push(key);
          else failure = error as Error;
          continue;
        }
        const objects = view.adopt(rel.target, shared.values.get(key) ?? [], shared.fresh.has(key));
        if (objects.length > 0) groups.set(key, objects);
        complete.add(key);
      }
      if (fallback.length > 0) {
        // The origin is unreachable: answer these as OFFLINE would, from the cache whatever its age.
        const cause = shared.errors.get(fallback[0] as KeyValue);
        const read = await view.core.cache.readRelation(rel, fallback);
        group(view, rel, read.rows, false, groups, complete);
        for (const key of read.emptyKeys) complete.add(key);
        const answered = fallback.filter((k) => complete.has(k)).length;
        if (answered > 0) view.core.fellBack(rel.id, answered, cause);
        if (!rel.hasFallback && fallback.some((k) => !complete.has(k))) {
          failure ??= new IsOfflineError(`${rel.id} is not in the cache and the origin cannot be reached`, { cause });
        }
      }
    }
  }

  const out: (RelationValue | Error)[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as KeyValue;
    if (!complete.has(key)) {
      out[i] = failure ?? rel.offlineFallback;
      continue;
    }
    out[i] = relationValue(rel, groups.get(key));
  }
  return out;
}

/** What a relation lookup answers with its group: the first object or null (hasOne), else the frozen group. */
export function relationValue(rel: CompiledRelation, members: EntityObject[] | undefined): RelationValue {
  if (rel.kind === 'hasOne') return members?.[0] ?? null;
  return members === undefined || members.length === 0 ? EMPTY : Object.freeze(members);
}

/**
 * Sorts the batch once, then splits it by relation key, so each group keeps the relation's order; every
 * key met is added to `complete`. Returns the view's objects for the rows.
 */
export function group(
  view: ViewState,
  rel: CompiledRelation,
  rows: Row[],
  fresh: boolean,
  groups: Map<KeyValue, EntityObject[]>,
  complete: Set<KeyValue>,
): EntityObject[] {
  sortRows(rows, rel.batchOrder);
  const objects = view.adopt(rel.target, rows, fresh);
  const keyOf = groupKeyOf(rel);
  for (let i = 0; i < rows.length; i++) {
    const key = keyOf(rows[i] as Row) as KeyValue;
    const members = groups.get(key);
    if (members === undefined) {
      groups.set(key, [objects[i] as EntityObject]);
      complete.add(key);
    } else members.push(objects[i] as EntityObject);
  }
  return objects;
}

/** The relation key a target row belongs to: its foreign key, or for manyToMany the source key it came with. */
function groupKeyOf(rel: CompiledRelation): (row: Row) => KeyValue | null {
  return rel.through === undefined ? rel.foreignKey.of : (row: Row) => row.$src as KeyValue;
}
