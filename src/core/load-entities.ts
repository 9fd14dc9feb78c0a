import type { KeyValue, Row } from './codec.js';
import { fetchClaimed } from './claimed-fetch.js';
import type { EntityObject } from './entity-class.js';
import { IsOfflineError, isUnreachable, NotFoundError } from './errors.js';
import { Mode, readsCacheFirst } from './mode.js';
import type { CompiledEntity } from './schema.js';
import type { ViewState } from './view-state.js';

/**
 * The batch function behind a view's entity loader: the view's memory first, then one cache statement
 * (unless FRESHEN), then one origin statement per batch-size chunk for what is left, whose rows and
 * marks are merged into the cache before anything resolves, so the batch resolves together.
 */
export async function loadEntities(
  view: ViewState,
  entity: CompiledEntity,
  mode: Mode,
  keys: readonly KeyValue[],
  force = false,
): Promise<(EntityObject | Error)[]> {
  view.assertLive(`look up ${entity.name}`);
  const out: (EntityObject | Error)[] = new Array(keys.length);
  const known = view.known[entity.index] as Map<KeyValue, EntityObject>;
  const absent = view.absent[entity.index] as Map<KeyValue, boolean>;
  const freshOnly = mode === Mode.FRESHEN;
  let todo: number[] = [];
  if (force) for (let i = 0; i < keys.length; i++) todo.push(i);
  else for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as KeyValue;
    const obj = view.held(entity, key, mode);
    if (obj !== undefined) out[i] = obj;
    else if (view.heldAbsent(entity, key, mode)) out[i] = new NotFoundError(entity.name, [displayKey(entity, key)]);
    else todo.push(i);
  }
  if (todo.length === 0) return out;

  const askedAt = Date.now();
  const notBefore = readsCacheFirst(mode) && entity.maxAge !== undefined ? askedAt - entity.maxAge : undefined;
  // What another process's answer must be at least as new as, to stand for this lookup.
  const since = freshOnly ? askedAt : notBefore;
  if (!freshOnly) {
    const read = await view.core.cache.readEntities(entity, todo.map((i) => keys[i] as KeyValue), notBefore);
    view.adopt(entity, read.rows, false);
    for (const key of read.absentKeys) if (!absent.has(key)) absent.set(key, false);
    const asked = todo.length;
    todo = fill(out, todo, keys, known, absent, entity);
    view.core.count(entity.name, asked - todo.length, todo.length);
    if (todo.length === 0) return out;
  }

  if (freshOnly) view.core.count(entity.name, 0, todo.length);
  if (mode === Mode.OFFLINE || !view.core.hasOrigin) {
    const why = view.core.hasOrigin ? 'the view is offline' : 'the store has no origin';
    for (const i of todo) out[i] = new IsOfflineError(`${entity.name} ${String(keys[i])} is not in the cache and ${why}`);
    return out;
  }

  const wanted = todo.map((i) => keys[i] as KeyValue);
  const kind = `e:${entity.name}`;
  // A forced read (refresh) shares only loads begun after it; FRESHEN only those begun after the view.
  const shareSince = force ? view.core.inflight.next() : freshOnly ? view.born : 0;
  const shared = await view.core.inflight.share(kind, wanted, shareSince, (mine) =>
    fetchClaimed<Row | null>(
      view.core,
      { kind: entity.name, since: since ?? 0 },
      mine,
      async (claimed) => {
        const rows = await view.core.select({ entity, where: entity.key, keys: claimed });
        const found = new Map<KeyValue, Row | null>();
        for (const key of claimed) found.set(key, null);
        for (const row of rows) found.set(entity.key.of(row) as KeyValue, row);
        const absentKeys = claimed.filter((k) => found.get(k) === null);
        await view.core.cache.merge({ entity, rows, loadedAt: Date.now(), entityKeys: claimed, absentKeys });
        return found;
      },
      async (others) => {
        const read = await view.core.cache.readEntities(entity, others, since);
        const back = new Map<KeyValue, Row | null>();
        for (const row of read.rows) back.set(entity.key.of(row) as KeyValue, row);
        for (const key of read.absentKeys) back.set(key, null);
        return back;
      },
    ),
  );
  const freshRows: Row[] = [];
  const olderRows: Row[] = [];
  const fallback: number[] = [];
  for (const i of todo) {
    const key = keys[i] as KeyValue;
    const error = shared.errors.get(key);
    if (error !== undefined) {
      if (mode === Mode.OFFLINE_FALLBACK && isUnreachable(error)) fallback.push(i);
      else out[i] = error as Error;
      continue;
    }
    const row = shared.values.get(key);
    if (row !== undefined && row !== null) (shared.fresh.has(key) ? freshRows : olderRows).push(row);
    else {
      known.delete(key);
      absent.set(key, shared.fresh.has(key));
    }
  }
  view.adopt(entity, freshRows, true);
  view.adopt(entity, olderRows, false);
  if (fallback.length > 0) {
    // The origin is unreachable: answer these as OFFLINE would, from the cache whatever its age.
    const fallbackKeys = fallback.map((i) => keys[i] as KeyValue);
    const read = await view.core.cache.readEntities(entity, fallbackKeys);
    view.adopt(entity, read.rows, false);
    for (const key of read.absentKeys) if (!absent.has(key)) absent.set(key, false);
    const answered = read.rows.length + read.absentKeys.length;
    if (answered > 0) view.core.fellBack(entity.name, answered, shared.errors.get(fallbackKeys[0] as KeyValue));
    for (const i of fill(out, fallback, keys, known, absent, entity)) {
      out[i] = new IsOfflineError(`${entity.name} ${String(keys[i])} is not in the cache and the origin cannot be reached`, { cause: shared.errors.get(keys[i] as KeyValue) });
    }
  }
  fill(out, todo.filter((i) => out[i] === undefined), keys, known, absent, entity);
  return out;
}

/** Answers what memory now holds; returns the indexes still unanswered. */
function fill(
  out: (EntityObject | Error)[],
  todo: readonly number[],
  keys: readonly KeyValue[],
  known: Map<KeyValue, EntityObject>,
  absent: Map<KeyValue, boolean>,
  entity: CompiledEntity,
): number[] {
  const rest: number[] = [];
  for (const i of todo) {
    const key = keys[i] as KeyValue;
    const obj = known.get(key);
    if (obj !== undefined) out[i] = obj;
    else if (absent.has(key)) out[i] = new NotFoundError(entity.name, [displayKey(entity, key)]);
    else rest.push(i);
  }
  return rest;
}

/** A key as the caller gave it: a composite's components rather than its canonical text. */
export function displayKey(entity: CompiledEntity, key: KeyValue): unknown {
  return entity.key.composite ? entity.key.components(key) : key;
}
