// The SQLite cache's public face: its options and the `sqliteCache()` factory.
import type { CacheStore } from '../../core/cache-store.js';
import { checkSqliteDriver, type SqliteDriver } from '../../sqlite/sqlite-driver.js';
import { SqliteCacheStore } from './store.js';

/** Options of {@link sqliteCache}. */
export interface SqliteCacheOptions {
  /**
   * The package that runs SQLite. `'sqlite3'` (the default) is asynchronous: statements run on libuv's
   * thread pool and never block the event loop, which is what a server needs. `'better-sqlite3'` runs each
   * statement synchronously on the calling thread: less overhead per statement, for batch jobs (warming,
   * exports, scripts), but nothing else runs meanwhile, not even while SQLite waits up to `busyTimeoutMs`
   * for another process's write lock. Both read and write the same file format and values, so a file
   * written through one opens through the other.
   *
   * `better-sqlite3` is an optional peer dependency, loaded only when chosen: `npm i better-sqlite3@12`
   * (version 12 supports Node 20; 13 needs Node 22).
   *
   * @example
   * await openStore(schema, { origin: mysqlOrigin(url), cache: sqliteCache('cache.db', { driver: 'better-sqlite3' }) });
   */
  driver?: SqliteDriver;
  /**
   * How long a statement waits for another process's write lock, in ms. Default 10000. With the
   * `better-sqlite3` driver the event loop is blocked while it waits.
   */
  busyTimeoutMs?: number;
  /** SQLite page cache size in KiB. Default 65536 (64 MiB). */
  cacheSizeKiB?: number;
  /** `PRAGMA synchronous`. Default `NORMAL` (durable across process crashes in WAL mode). */
  synchronous?: 'OFF' | 'NORMAL' | 'FULL';
  /**
   * How long a process's claim to fetch a lookup holds, in ms, before other processes sharing the file may
   * fetch it themselves (a crashed process blocks no one for longer). Default 30000.
   */
  claimMs?: number;
  /**
   * How long, in ms, the cache write of an answer already given may wait for the next answers' writes to
   * share its transaction (one commit instead of one per lookup, for lookups made one after another).
   * Only while the store is alone on its file (or in memory) and `cacheWrites` is `'after-answer'`: a
   * write someone waits on commits at once. A crash within the wait loses those writes, never a mark
   * without its rows. Default 4; 0 commits each write as soon as the connection is free.
   */
  commitDelayMs?: number;
}

/**
 * A cache in a SQLite file (or in memory when `filename` is omitted or `:memory:`). By default through the
 * asynchronous `sqlite3` driver, which never blocks the event loop; `options.driver` picks `better-sqlite3`
 * instead, for batch jobs.
 *
 * @example
 * await openStore(schema, { origin: mysqlOrigin(url), cache: sqliteCache('cache.db') });
 */
export function sqliteCache(filename = ':memory:', options: SqliteCacheOptions = {}): CacheStore {
  if (typeof filename !== 'string' || filename === '') throw new TypeError(`sqliteCache: expected a file name, got ${JSON.stringify(filename)}`);
  const { busyTimeoutMs = 10000, cacheSizeKiB = 65536, synchronous = 'NORMAL', claimMs = 30000, commitDelayMs = 4 } = options;
  if (typeof commitDelayMs !== 'number' || !Number.isFinite(commitDelayMs) || commitDelayMs < 0 || commitDelayMs > 60_000) {
    throw new TypeError(`sqliteCache: commitDelayMs must be a number of milliseconds from 0 to 60000, got ${JSON.stringify(commitDelayMs)}`);
  }
  return new SqliteCacheStore(filename, { driver: checkSqliteDriver(options.driver, 'sqliteCache'), busyTimeoutMs, cacheSizeKiB, synchronous, claimMs, commitDelayMs });
}
