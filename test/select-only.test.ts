import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { Mode, mysqlOrigin, NotFoundError, openStore, OriginError, RefusedSqlError } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { measure } from './helpers/measure.js';
import { createTestDb, MYSQL_HOST, MYSQL_PORT, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** ER_TABLEACCESS_DENIED_ERROR (no privilege) and ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION (read-only session). */
const DENIED = 1142;
const READ_ONLY = 1792;
/** ER_PROCACCESS_DENIED_ERROR: no EXECUTE privilege on a stored routine. */
const EXECUTE_DENIED = 1370;
/** Writes the library refuses before sending; and a read that writes anyway, through a stored function. */
const WRITES = ["INSERT INTO b VALUES (50, 'b50', 1)", "UPDATE a SET name = 'x' WHERE id = 1", 'DELETE FROM b WHERE id = 4', 'DROP TABLE b'];
const WRITING_READ = 'SELECT adbv_rename_a1() AS done';

describe('read-only enforced by the server', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  let n = 0;
  const cacheFile = () => tmp.file(`ro-${++n}.db`);
  const user = `adbv_ro_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(8).toString('hex');
  let url: string;
  let checksum: string;

  async function originState(): Promise<string> {
    const [rows] = await db.admin.query('CHECKSUM TABLE a, b');
    const [tables] = await db.admin.query('SHOW TABLES');
    return JSON.stringify([rows, tables]);
  }

  before(async () => {
    db = await createTestDb(...AB_TABLES);
    for (const host of ['127.0.0.1', 'localhost']) {
      await db.admin.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
      await db.admin.query(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'${host}'`);
    }
    url = `mysql://${user}:${password}@${MYSQL_HOST}:${MYSQL_PORT}/${db.name}`;
    // A SELECT the library lets through that writes when it runs: only the server can refuse it.
    await db.admin.query("CREATE FUNCTION adbv_rename_a1() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE a SET name = 'renamed' WHERE id = 1; RETURN 1; END");
    checksum = await originState();
  });
  after(async () => {
    for (const host of ['127.0.0.1', 'localhost']) await db.admin.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
    await db.drop();
    tmp.remove();
  });

  it('the user really can only SELECT: its own INSERT, outside the library, is refused for lack of privilege', async () => {
    const conn = await mysql.createConnection({ uri: url });
    try {
      const [rows] = await conn.query('SELECT COUNT(*) AS n FROM b');
      assert.equal(Number((rows as { n: number }[])[0]?.n), 4);
      await assert.rejects(conn.query("INSERT INTO b VALUES (50, 'b50', 1)"), (e: { errno?: number }) => e.errno === DENIED);
    } finally {
      await conn.end();
    }
    assert.equal(await originState(), checksum);
  });

  it('as the SELECT-only user: the quick-start flow, online then offline', async () => {
    const file = cacheFile();
    {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      const a1 = await view.A(1);
      await a1.bs;
      assert.equal((await a1.bs).length, 3);
      assert.equal(await (await a1.bs)[0]!.a, a1);
      assert.deepEqual(await Promise.all((await a1.bs).map((b) => b.a)), [a1, a1, a1]);
      assert.equal(store.stats.originQueries, 2);
    }
    await using offline = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    const a1 = await view.A(1);
    assert.deepEqual(await Promise.all((await a1.bs).map((b) => b.a)), [a1, a1, a1]);
    assert.equal(offline.stats.originQueries, 0);
  });

  it('as the SELECT-only user: relations, absence, custom query, raw SELECT, PREFER_CACHE, refreshAll', async () => {
    const file = cacheFile();
    await using store = await openStore(abSchema, { origin: mysqlOrigin(url), cache: testCache(file), mode: Mode.FRESHEN });
    {
      await using view = store.view();
      const [a1, a2, a3] = await view.A.many([1, 2, 3]);
      assert.deepEqual((await Promise.all([a1!.bs, a2!.bs, a3!.bs])).map((g) => g.map((b) => b.id)), [[1, 2, 3], [4], []]);
      assert.equal((await a1!.b)?.id, 1);
      assert.equal(await a3!.b, null);
      const b4 = await view.B(4);
      assert.equal(await b4.a, a2);
      await assert.rejects(view.B(99), NotFoundError);
      const q = await view.query('B', { tag: 'bs-of', sql: 'SELECT * FROM b WHERE a_id = ? ORDER BY id DESC', params: [1] });
      assert.deepEqual(q.map((b) => b.id), [3, 2, 1]);
      const [row] = await view.raw('SELECT COUNT(*) AS n, CURRENT_USER() AS who FROM b');
      assert.equal(Number(row?.n), 4);
      assert.match(String(row?.who), new RegExp(`^${user}@`));
    }
    await using cached = store.view({ mode: Mode.PREFER_CACHE });
    const hit = await measure(db, store, async () => (await (await cached.A(1)).bs).map((b) => b.id));
    assert.deepEqual(hit.value, [1, 2, 3]);
    assert.equal(hit.selects, 0);
    const progress: number[] = [];
    const refreshed = await store.refreshAll({ onProgress: ({ done }) => progress.push(done) });
    assert.ok(refreshed.lookups >= 10, `refreshAll re-read every complete lookup (${refreshed.lookups})`);
    assert.equal(progress.at(-1), refreshed.lookups);
    assert.deepEqual((await store.verify()).problems, []);
  });

  /** Asserts that each write is refused before it is sent, and that the writing SELECT reaches the server and fails there with `errno`. */
  async function refusesWrites(origin: string, errnos: readonly number[]): Promise<void> {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(origin), cache: testCache(cacheFile()) });
    await using view = store.view();
    for (const sql of WRITES) {
      const error = await view.raw(sql).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof RefusedSqlError && error.sql === sql, `${sql}: refused before it was sent, got ${String(error)}`);
    }
    const error = await view.raw(WRITING_READ).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof OriginError, `${WRITING_READ}: refused by the server, got ${String(error)}`);
    const errno = (error.cause as { errno?: number }).errno;
    assert.ok(errno !== undefined && errnos.includes(errno), `${WRITING_READ}: refused by the server (errno ${errno}: ${error.message})`);
    assert.equal(await originState(), checksum, 'the origin is unchanged');
  }

  it('as the SELECT-only user: writes through view.raw are refused before they are sent, a writing SELECT by the server', async () => {
    await refusesWrites(url, [EXECUTE_DENIED, READ_ONLY, DENIED]);
  });

  it('as root: writes through view.raw are refused before they are sent, a writing SELECT because the session is read-only', async () => {
    await refusesWrites(`mysql://root@${MYSQL_HOST}:${MYSQL_PORT}/${db.name}`, [READ_ONLY]);
  });
});
