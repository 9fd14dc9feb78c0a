import { sqliteCache, type CacheStore, type SqliteCacheOptions, type SqliteDriver } from 'asyncdbview';

/**
 * The cache driver the tests' caches run on: `ADBV_TEST_CACHE_DRIVER` (`sqlite3` or `better-sqlite3`),
 * default `sqlite3`. Worker processes inherit it, so a multi-process test runs wholly on one driver.
 *
 *   ADBV_TEST_CACHE_DRIVER=better-sqlite3 node --test --test-concurrency=1 build/test/fidelity.test.js
 */
export const TEST_CACHE_DRIVER = (process.env.ADBV_TEST_CACHE_DRIVER || 'sqlite3') as SqliteDriver;

/** `sqliteCache(filename, options)` on the driver under test. */
export function testCache(filename?: string, options: SqliteCacheOptions = {}): CacheStore {
  return sqliteCache(filename, { driver: TEST_CACHE_DRIVER, ...options });
}
