// Fetch claims: processes sharing one cache file fetch each lookup from the origin once between them.
import { setTimeout as delay } from 'node:timers/promises';
import type { CacheStore } from '../cache-store.js';
import type { KeyValue } from '../values.js';

/** How often a process waiting on another's fetch looks at the cache again. */
const POLL_MS = 20;
/** Rounds of waiting on other processes before fetching anyway (a minute). */
const MAX_ROUNDS = 3000;

/**
 * Fetches `keys` of lookup `kind` from the origin unless another process sharing the cache file is
 * already fetching them, or has completed them since `since` (ms): those are read back from the cache
 * (answers older than `since` do not count), or fetched here once the other's claim expires. `fetch`
 * merges its answer, which releases the claims; a failed fetch releases them here.
 */
export async function fetchClaimed<T>(
  cache: CacheStore,
  kind: string,
  since: number,
  keys: readonly KeyValue[],
  fetch: (keys: KeyValue[]) => Promise<Map<KeyValue, T>>,
  readBack: (keys: KeyValue[]) => Promise<Map<KeyValue, T>>,
): Promise<Map<KeyValue, T>> {
  const out = new Map<KeyValue, T>();
  let pending: readonly KeyValue[] = keys;
  for (let round = 0; ; round++) {
    if (round > 0) await delay(POLL_MS);
    // Waiting is bounded: past it (an answer that never lands as asked), fetch here regardless.
    // After a wait the keys were another process's to fetch: it may have answered them and gone since, so
    // the claim looks at the file even if this store is alone now (alone, it would take every key unseen).
    const claimed = round > MAX_ROUNDS ? [...pending] : await cache.claim(kind, pending, since, round > 0);
    if (claimed.length > 0) {
      let got: Map<KeyValue, T>;
      try {
        got = await fetch(claimed);
      } catch (error) {
        await cache.release(kind, claimed).catch(() => undefined);
        throw error;
      }
      for (const [k, v] of got) out.set(k, v);
    }
    if (claimed.length === pending.length) return out;
    const mine = new Set(claimed);
    const others = pending.filter((k) => !mine.has(k));
    const back = await readBack(others);
    for (const [k, v] of back) out.set(k, v);
    pending = others.filter((k) => !back.has(k));
    if (pending.length === 0) return out;
  }
}
