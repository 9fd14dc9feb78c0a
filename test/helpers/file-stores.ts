// Online and offline stores on one cache file, for tests that load online and then check what is offline.
import { Mode, mysqlOrigin, openStore, type EntityDef, type Schema, type Store } from 'asyncdbview';
import { testCache } from './cache-driver.js';

/**
 * `online(mode)` opens a store on the origin at `where().url` and the cache file `where().file` (default
 * FRESHEN); `offline()` opens one with no origin on the same file, after waiting for the cache writes of
 * every online store opened so far (answers are given before their writes commit).
 */
export function fileStores<S extends Record<string, EntityDef>>(
  schema: Schema<S>,
  where: () => { readonly url: string; readonly file: string },
): { online(mode?: Mode, options?: { batchSize?: number }): Promise<Store<S>>; offline(): Promise<Store<S>> } {
  const opened: Store<S>[] = [];
  return {
    async online(mode = Mode.FRESHEN, options = {}) {
      const { url, file } = where();
      const store = await openStore(schema, { origin: mysqlOrigin(url), cache: testCache(file), mode, ...options });
      opened.push(store);
      return store;
    },
    async offline() {
      await Promise.all(opened.map((s) => s.flush()));
      return openStore(schema, { origin: null, cache: testCache(where().file), mode: Mode.OFFLINE });
    },
  };
}
