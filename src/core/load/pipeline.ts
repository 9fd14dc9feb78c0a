// The one path every lookup takes: memory, cache, offline answer, shared in-flight load and claim, origin, merge, fallback.
import { IsOfflineError, isUnreachable } from '../errors.js';
import { Mode, readsCacheFirst } from '../mode.js';
import type { KeyValue } from '../values.js';
import { fetchClaimed } from './claimed-fetch.js';
import type { LoadContext } from './context.js';
import type { Loaded, LookupKind } from './lookup-kind.js';

/** When a batch of lookups was asked, as far as sharing loads is concerned. */
export interface Asked {
  /**
   * A load already in flight answers this batch only if it began after this point on the store's in-flight
   * clock: 0 for any load; the view's birth for FRESHEN (the origin once per view); now for a forced read.
   */
  readonly shareSince: number;
}

/**
 * Runs a batch of lookups of one kind — the keys the caller's memory (a view's identity map or answers)
 * could not answer — along the one path every lookup takes:
 *
 * 1. **cache**: unless FRESHEN, one cache statement answers the keys recorded complete (not older than
 *    the kind's `maxAge` in PREFER_CACHE / OFFLINE_FALLBACK);
 * 2. **offline**: in OFFLINE, or without an origin, the rest fail with `IsOfflineError`;
 * 3. **shared load and claim**: keys already being loaded by another view of the store (begun late
 *    enough, see {@link Asked}) wait for that load; the others are claimed in the cache file, so a process
 *    sharing it does not fetch them too (what another process is fetching is read back once it lands);
 * 4. **origin**: one statement per batch-size chunk, stamped with the moment it began;
 * 5. **merge**: rows and completeness marks in one cache transaction, before the batch answers;
 * 6. **fallback**: in OFFLINE_FALLBACK, keys whose origin statement could not reach the origin are
 *    answered from the cache whatever its age, or fail with `IsOfflineError`.
 *
 * Each key comes back with its answer (`fresh` when read from the origin by this load or one it
 * shared) or its error; the caller turns answers into its objects.
 */
export async function runLookups<T>(ctx: LoadContext, kind: LookupKind<T>, keys: readonly KeyValue[], mode: Mode, asked: Asked): Promise<Loaded<T>> {
  const out: Loaded<T> = { values: new Map(), errors: new Map(), fresh: new Set() };
  if (keys.length === 0) return out;
  const askedAt = Date.now();
  const notBefore = readsCacheFirst(mode) && kind.maxAge !== undefined ? askedAt - kind.maxAge : undefined;

  // 1. cache
  let missing = keys;
  if (mode !== Mode.FRESHEN) {
    const read = await kind.read(keys, notBefore);
    for (const [key, value] of read) out.values.set(key, value);
    if (read.size > 0) missing = keys.filter((k) => !read.has(k));
  }
  ctx.count(kind.id, keys.length - missing.length, missing.length);
  if (missing.length === 0) return out;

  // 2. offline. Answers this process was already given, their cache writes not yet committed, are in the
  // cache a moment later: wait for those writes and read again, so OFFLINE answers what the cache will hold.
  if (mode === Mode.OFFLINE || !ctx.hasOrigin) {
    if (await ctx.settleWrites()) {
      const again = await kind.read(missing, notBefore);
      if (again.size > 0) {
        for (const [key, value] of again) out.values.set(key, value);
        missing = missing.filter((k) => !again.has(k));
        if (missing.length === 0) return out;
      }
    }
    const error = new IsOfflineError(`${kind.subject(missing)} ${missing.length === 1 ? 'is' : 'are'} not in the cache and ${ctx.hasOrigin ? 'the view is offline' : 'the store has no origin'}`);
    for (const key of missing) out.errors.set(key, error);
    return out;
  }

  // 3.–5. shared load and claim, origin, merge. Another process's answer stands for this lookup only if it
  // is at least as new as the lookup needs: begun after it was asked (FRESHEN), or within maxAge.
  const since = mode === Mode.FRESHEN ? askedAt : (notBefore ?? 0);
  const shared = await ctx.inflight.share(kind.id, missing, asked.shareSince, (mine, hold) =>
    fetchClaimed<T>(ctx.cache, kind.id, since, mine, (claimed) => fetchAndMerge(ctx, kind, claimed, hold), (others) => kind.read(others, since)),
  );
  const unreachable: KeyValue[] = [];
  for (const key of missing) {
    const error = shared.errors.get(key);
    if (error === undefined) {
      const value = shared.values.get(key);
      if (value !== undefined) out.values.set(key, value);
      if (shared.fresh.has(key)) out.fresh.add(key);
    } else if (mode === Mode.OFFLINE_FALLBACK && isUnreachable(error)) unreachable.push(key);
    else out.errors.set(key, error);
  }

  // 6. fallback: the origin cannot be reached; answer as OFFLINE would, from the cache whatever its age.
  if (unreachable.length > 0) {
    const cause = shared.errors.get(unreachable[0] as KeyValue);
    const read = await kind.read(unreachable);
    if (read.size > 0) ctx.fellBack(kind.id, read.size, cause);
    const left: KeyValue[] = [];
    for (const key of unreachable) {
      const value = read.get(key);
      if (value === undefined) left.push(key);
      else out.values.set(key, value);
    }
    if (left.length > 0) {
      const error = new IsOfflineError(`${kind.subject(left)} ${left.length === 1 ? 'is' : 'are'} not in the cache and the origin cannot be reached`, { cause });
      for (const key of left) out.errors.set(key, error);
    }
  }
  return out;
}

/**
 * Steps 1 and 3 for loads that have their own way to the origin (include trees): what the cache holds
 * complete for `keys` (not in FRESHEN), and what loads in flight in this process — whose cache writes may
 * not have committed yet — already answered (in FRESHEN, only loads begun after `born`); never starts a
 * load. Keys in neither are left out; `fresh` holds those answered by a load in flight.
 */
export async function readKnown<T>(
  ctx: LoadContext,
  kind: LookupKind<T>,
  keys: readonly KeyValue[],
  mode: Mode,
  born: number,
): Promise<Loaded<T>> {
  const freshen = mode === Mode.FRESHEN;
  const notBefore = !freshen && kind.maxAge !== undefined ? Date.now() - kind.maxAge : undefined;
  const values = freshen ? new Map<KeyValue, T>() : await kind.read(keys, notBefore);
  const fresh = new Set<KeyValue>();
  // Never errors: keys it cannot answer are left out. (A `Loaded`, so the view's lens takes it as any answer.)
  const errors = new Map<KeyValue, unknown>();
  if (values.size === keys.length) return { values, errors, fresh };
  const pending = await ctx.inflight.take<T>(kind.id, values.size === 0 ? keys : keys.filter((k) => !values.has(k)), freshen ? born : 0);
  for (const [key, value] of pending) {
    values.set(key, value);
    fresh.add(key);
  }
  return { values, errors, fresh };
}

/**
 * Steps 4 and 5: the origin's answer for `keys`, and its cache write (rows and marks in one transaction).
 * By default the answer is given as soon as the origin has answered, and the write commits right after,
 * off the caller's path: until it has, the answer stays shared in flight (`hold`), so no lookup in this
 * process goes to the origin for it again, and the fetch claims other processes wait on are released only
 * by the commit. With `cacheWrites: 'before-answer'` the write commits first.
 */
async function fetchAndMerge<T>(ctx: LoadContext, kind: LookupKind<T>, keys: KeyValue[], hold: (write: Promise<unknown>) => void): Promise<Map<KeyValue, T>> {
  // Stamped when the read began: a slower, older read landing later must not pass for the newer one.
  const readAt = Date.now();
  const rows = await kind.select(keys);
  const answers = kind.answers(keys, rows);
  const write = ctx.written(kind.merge(keys, rows, readAt), () => ctx.cache.release(kind.id, keys));
  if (ctx.answerFirst) hold(write);
  else await write;
  return answers;
}
