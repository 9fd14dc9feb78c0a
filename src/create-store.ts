import { sqliteCache } from './cache/sqlite/index.js';
import type { CacheStore } from './core/cache-store.js';
import { Store, type StoreOptions } from './core/store/store.js';
import type { EntityDef, Schema } from './core/schema.js';
import { attachDebugLog } from './debug-log.js';

/** Options of {@link createStore} and {@link openStore}: as {@link StoreOptions}, with the cache optional. */
export type OpenStoreOptions = Omit<StoreOptions, 'cache'> & {
  /** The local cache. Default: an in-memory SQLite cache (gone when the store closes). */
  cache?: CacheStore;
};

/**
 * Makes a store that is not open yet; `await store.open()` opens it. With `DEBUG=asyncdbview` in the
 * environment its origin statements are logged (`DEBUG=asyncdbview*`: cache statements too), through the
 * `debug` package when it is installed, else to stderr in the same format.
 *
 * @example
 * const store = createStore(schema, { origin: mysqlOrigin(url), cache: sqliteCache('cache.db') });
 * await store.open();
 */
export function createStore<S extends Record<string, EntityDef>>(schema: Schema<S>, options: OpenStoreOptions = {}): Store<S> {
  const store = new Store(schema, { ...options, cache: options.cache ?? sqliteCache() });
  if (process.env.DEBUG) attachDebugLog(store);
  return store;
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
