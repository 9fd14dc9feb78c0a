import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

export const MYSQL_HOST = process.env.MYSQL_HOST ?? '127.0.0.1';
export const MYSQL_PORT = Number(process.env.MYSQL_PORT ?? 3306);
const ADMIN_URL = `mysql://root@${MYSQL_HOST}:${MYSQL_PORT}`;

/**
 * Who the library under test connects as: root by default, or ADBV_TEST_MYSQL_USER /
 * ADBV_TEST_MYSQL_PASSWORD (e.g. a user granted only SELECT, as `npm run test:select-only` does). Seeding,
 * changing origin data and reading counters always use the admin (root) connection.
 */
export const MYSQL_USER = process.env.ADBV_TEST_MYSQL_USER || 'root';
export const MYSQL_PASSWORD = process.env.ADBV_TEST_MYSQL_USER ? (process.env.ADBV_TEST_MYSQL_PASSWORD ?? '') : '';
const ORIGIN_AUTH = encodeURIComponent(MYSQL_USER) + (MYSQL_PASSWORD === '' ? '' : `:${encodeURIComponent(MYSQL_PASSWORD)}`);

let reachable: Promise<string | undefined> | undefined;

/**
 * Why MySQL tests must be skipped, or undefined when a server answers. Under CI=true a missing server
 * is an error, not a skip.
 */
export function mysqlSkipReason(): Promise<string | undefined> {
  reachable ??= (async () => {
    try {
      const conn = await mysql.createConnection({ uri: ADMIN_URL, connectTimeout: 3000 });
      await conn.end();
      return undefined;
    } catch (error) {
      const reason = `no MySQL at ${MYSQL_HOST}:${MYSQL_PORT} (${(error as Error).message}); MySQL tests skipped`;
      if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
      console.log(`# ${reason}`);
      return reason;
    }
  })();
  return reachable;
}

/** A database of its own for one test: created with `tables` (DDL + seed statements), dropped by `drop()`. */
export interface TestDb {
  readonly name: string;
  /** URL for mysqlOrigin, as MYSQL_USER. */
  readonly url: string;
  /** An admin connection to the test database (for seeding and changing origin data). */
  readonly admin: mysql.Connection;
  /** Runs statements on the test database. */
  exec(...statements: string[]): Promise<void>;
  /** The server's own global count of SELECT statements (MariaDB Com_select). */
  comSelect(): Promise<number>;
  drop(): Promise<void>;
}

export async function createTestDb(...statements: string[]): Promise<TestDb> {
  const name = `adbv_t_${randomBytes(5).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: ADMIN_URL, multipleStatements: true });
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.query(`USE \`${name}\``);
  const db: TestDb = {
    name,
    url: `mysql://${ORIGIN_AUTH}@${MYSQL_HOST}:${MYSQL_PORT}/${name}`,
    admin,
    async exec(...sql: string[]) {
      for (const s of sql) await admin.query(s);
    },
    async comSelect() {
      const [rows] = await admin.query("SHOW GLOBAL STATUS LIKE 'Com_select'");
      return Number((rows as { Value: string }[])[0]?.Value);
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
  await db.exec(...statements);
  return db;
}

/**
 * Counts the SELECT statements the server ran while `fn` ran, by its own counter. Tests run one file
 * at a time (--test-concurrency=1), so nothing else is selecting meanwhile.
 */
export async function countSelects<T>(db: TestDb, fn: () => Promise<T>): Promise<{ value: T; selects: number }> {
  const before = await db.comSelect();
  const value = await fn();
  const after = await db.comSelect();
  return { value, selects: after - before };
}
