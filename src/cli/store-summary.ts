import type { StoreStats } from '../core/store/store.js';
import { formatDuration } from './format-units.js';

/** What a command's store did: lookups and statements, and how long it took. */
export interface StoreSummary {
  /** Lookups made (answered by the cache or by the origin). */
  readonly lookups: number;
  readonly originQueries: number;
  readonly cacheQueries: number;
  readonly ms: number;
}

export function storeSummary(stats: StoreStats, ms: number): StoreSummary {
  let lookups = 0;
  for (const { hits, misses } of Object.values(stats.lookups)) lookups += hits + misses;
  return { lookups, originQueries: stats.originQueries, cacheQueries: stats.cacheQueries, ms: Math.round(ms) };
}

/** The summary as the lines a person reads. */
export function formatStoreSummary(s: StoreSummary): string[] {
  return [`  lookups            ${s.lookups}`, `  origin statements  ${s.originQueries}`, `  cache statements   ${s.cacheQueries}`, `  time               ${formatDuration(s.ms)}`];
}
