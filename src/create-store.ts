import { sqliteCache } from './cache/sqlite.js';
import type { CacheStore } from './core/cache-store.js';
import { Store, type StoreOptions } from './core/store.js';
import type { EntityDef, Schema } from './core/schema.js';

/** Options of {@link createStore} and {@link openStore}: as {@link StoreOptions}, with the cache optional. */
export type OpenStoreOptions = Omit<StoreOptions, 'cache'> & {
  /** The local cache. Default: an in-memory SQLite cache (gone when the store closes). */
  cache?: CacheStore;
};

/**
 * Makes a store that is not open yet; `await store.open()` opens it.
 *
 * @example
 * const store = createStore(schema, { origin: mysqlOrigin(url), cache: sqliteCache('cache.db') });
 * await store.open();
 */
export function createStore<S extends Record<string, EntityDef>>(schema: Schema<S>, options: OpenStoreOptions = {}): Store<S> {
  return new Store(schema, { ...options, cache: options.cache ?? sqliteCache() });
}

/**
 * Makes and opens a store.
 *
 * @example
 * await using store = await openStore(schema, { origin: mysqlOrigin(url), cache: sqliteCache('cache.db') });
 * await using view = store.view();
 * const a = await view.A(1);
 */
export async function openStore<S extends Record<string, EntityDef>>(schema: Schema<S>, options: OpenStoreOptions = {}): Promise<Store<S>> {
  const store = createStore(schema, options);
  await store.open();
  return store;
}
