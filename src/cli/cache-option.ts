/** The `--cache FILE` and `--driver` options of the commands that open a cache with a store. */
import { sqliteCache } from '../cache/sqlite/index.js';
import type { CacheStore } from '../core/cache-store.js';
import type { SqliteDriver } from '../sqlite/sqlite-driver.js';
import { stringOption, type OptionSpec, type OptionValues } from './command.js';
import { UsageError } from './usage-error.js';

const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

/** `--driver`: which SQLite driver runs the cache. */
export const DRIVER_OPTION: OptionSpec = {
  type: 'string',
  value: 'DRIVER',
  description: 'the cache driver: sqlite3 (default) or better-sqlite3 (synchronous, faster for batch work; npm i better-sqlite3@12)',
};

/** The driver `--driver` names (default `sqlite3`); anything else is a `UsageError`. */
export function driverOption(values: OptionValues): SqliteDriver {
  const driver = stringOption(values, 'driver') ?? 'sqlite3';
  if (!(DRIVERS as readonly string[]).includes(driver)) throw new UsageError(`--driver: expected ${DRIVERS.join(' or ')}, got ${JSON.stringify(driver)}`);
  return driver as SqliteDriver;
}

/** The cache of `file` on the driver `--driver` names. */
export function cacheOption(values: OptionValues, file: string): CacheStore {
  return sqliteCache(file, { driver: driverOption(values) });
}
