import { describe } from '../core/values.js';
import { BetterSqlite3Connection } from './better-sqlite3.js';
import type { SqliteConnection } from './connection.js';
import { NodeSqlite3Connection } from './node-sqlite3.js';

/**
 * The package that runs SQLite for a cache: `sqlite3` (asynchronous, never blocks the event loop) or
 * `better-sqlite3` (synchronous, cheaper per statement; an optional peer dependency).
 */
export type SqliteDriver = 'sqlite3' | 'better-sqlite3';

const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

/** @internal `driver`, checked: a TypeError names a value that is not a driver, and the drivers there are. */
export function checkSqliteDriver(driver: unknown, where: string): SqliteDriver {
  if (driver === undefined) return 'sqlite3';
  if (!DRIVERS.includes(driver as SqliteDriver)) {
    throw new TypeError(`${where}: driver must be ${DRIVERS.map((d) => `'${d}'`).join(' or ')}, got ${describe(driver)}`);
  }
  return driver as SqliteDriver;
}

/** @internal Opens a connection through `driver`; only the chosen driver's package is ever loaded. */
export function openSqliteConnection(driver: SqliteDriver, filename: string, readOnly = false): Promise<SqliteConnection> {
  return driver === 'better-sqlite3' ? BetterSqlite3Connection.open(filename, readOnly) : NodeSqlite3Connection.open(filename, readOnly);
}
