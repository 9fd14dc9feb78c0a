import type { StoreStats } from 'asyncdbview';
import { countSelects, type TestDb } from './mysql.js';

/** What one step cost: the server's own SELECT count and the store's two counters. */
export interface Cost<T> {
  readonly value: T;
  /** SELECT statements the MariaDB server ran (global Com_select delta). */
  readonly selects: number;
  /** store.stats.originQueries delta. */
  readonly originQueries: number;
  /** store.stats.cacheQueries delta. */
  readonly cacheQueries: number;
}

/**
 * Runs `fn` and reports what it cost, by the server's counter and by the store's. Cache writes of answers
 * commit right after the answer (`cacheWrites: 'after-answer'`): the step's own writes are waited for and
 * counted with it, and earlier steps' writes are done before it starts.
 */
export async function measure<T>(db: TestDb, store: { readonly stats: StoreStats; flush(): Promise<void> }, fn: () => Promise<T>): Promise<Cost<T>> {
  await store.flush();
  const origin0 = store.stats.originQueries;
  const cache0 = store.stats.cacheQueries;
  const { value, selects } = await countSelects(db, async () => {
    const value = await fn();
    await store.flush();
    return value;
  });
  return { value, selects, originQueries: store.stats.originQueries - origin0, cacheQueries: store.stats.cacheQueries - cache0 };
}
