import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2';
import { IsOfflineError, Mode, mysqlOrigin, openStore, RefusedSqlError, type Store } from 'asyncdbview';
import { TEST_CACHE_DRIVER, testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

type AbStore = Store<(typeof abSchema)['entities']>;

/** Writes a read-only origin must refuse: DML with and without parameters, and DDL. */
const WRITES: readonly { sql: string; params: unknown[] }[] = [
  { sql: 'DELETE FROM b', params: [] },
  { sql: 'INSERT INTO b VALUES (?, ?, ?)', params: [50, 'b50', 1] },
  { sql: 'UPDATE a SET name = ? WHERE id = 1', params: ['hacked'] },
  { sql: 'CREATE TABLE z (id INT PRIMARY KEY)', params: [] },
];

describe('raw SQL and cacheSql', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  /** The origin's data as the admin connection sees it: B rows, A names, whether table z exists. */
  async function originState(): Promise<unknown> {
    const [bs] = await db.admin.query('SELECT id, name, a_id FROM b ORDER BY id');
    const [as] = await db.admin.query('SELECT id, name FROM a ORDER BY id');
    const [z] = await db.admin.query('SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', [db.name, 'z']);
    return { bs, as, z };
  }

  it('view.raw returns plain rows, uncached: one origin statement per call', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), mode: Mode.PREFER_CACHE });
    await using view = store.view();
    for (let i = 0; i < 2; i++) {
      const step = await measure(db, store, () => view.raw('SELECT COUNT(*) AS n FROM b WHERE a_id = ?', [1]));
      assert.equal(step.originQueries, 1);
      assert.equal(step.selects, 1);
      assert.equal(step.cacheQueries, 0, 'raw SQL never touches the cache');
      assert.equal(step.value.length, 1);
      assert.equal(Number(step.value[0]?.n), 3);
    }
    const rows = await view.raw('SELECT id, name FROM a WHERE id IN (?) ORDER BY id DESC', [[1, 2]]);
    assert.deepEqual(rows.map((r) => ({ ...r })), [{ id: 2, name: 'a2' }, { id: 1, name: 'a1' }]);
    assert.equal(Object.getPrototypeOf(rows[0]) === Object.prototype || Object.getPrototypeOf(rows[0]) === null, true, 'plain rows, not entities');
    // Not cached: a change at the origin shows at once, in the same view.
    await db.exec("INSERT INTO b VALUES (5, 'b5', 1)");
    try {
      const [row] = await view.raw('SELECT COUNT(*) AS n FROM b WHERE a_id = ?', [1]);
      assert.equal(Number(row?.n), 4);
    } finally {
      await db.exec('DELETE FROM b WHERE id = 5');
    }
  });

  it('view.raw rejects with IsOfflineError in an OFFLINE view and sends nothing', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), mode: Mode.FRESHEN });
    await using view = store.view({ mode: Mode.OFFLINE });
    const step = await measure(db, store, () => assert.rejects(view.raw('SELECT 1 AS one'), IsOfflineError));
    assert.equal(step.originQueries, 0);
    assert.equal(step.selects, 0);
    await using noOrigin = await openStore(abSchema, { origin: null });
    await assert.rejects(noOrigin.view().raw('SELECT 1 AS one'), IsOfflineError);
  });

  /**
   * What became of each write: "refused" when the origin refused it before sending anything (RefusedSqlError
   * naming the statement; test/read-only.test.ts shows the server's read-only session refusing a write that
   * reaches it), else what happened.
   */
  async function writeOutcomes(store: AbStore): Promise<Record<string, string>> {
    await using view = store.view();
    const out: Record<string, string> = {};
    for (const { sql, params } of WRITES) {
      out[sql] = await view.raw(sql, params).then(
        () => 'ran',
        (error: unknown) => {
          if (error instanceof RefusedSqlError && error.entry === 'raw' && error.sql === sql) return 'refused';
          return `${(error as Error).name}: ${(error as Error).message}`;
        },
      );
    }
    return out;
  }
  const allRefused = Object.fromEntries(WRITES.map((w) => [w.sql, 'refused']));

  it('view.raw refuses writes on a pool the library made from a URL; the origin is unchanged', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url) });
    const before = await originState();
    const outcomes = await writeOutcomes(store);
    assert.deepEqual({ outcomes, origin: await originState() }, { outcomes: allRefused, origin: before }, 'each write refused before it was sent, the origin data unchanged');
    const [row] = await store.view().raw('SELECT COUNT(*) AS n FROM b');
    assert.equal(Number(row?.n), 4, 'and reads still work');
  });

  it('caller SQL cannot lift the read-only session of a library-made pool', async () => {
    // A database of its own: if the write goes through, it must not spoil the other tests' data.
    const own = await createTestDb(...AB_TABLES);
    try {
      await using store = await openStore(abSchema, { origin: mysqlOrigin({ uri: own.url, connectionLimit: 1 }) });
      await using view = store.view();
      for (const sql of ['SET SESSION TRANSACTION READ WRITE', 'SET SESSION tx_read_only = 0', 'SET SESSION transaction_read_only = 0']) {
        await view.raw(sql).catch(() => undefined);
      }
      await view.raw('DELETE FROM b').catch(() => undefined);
      const [rows] = await own.admin.query('SELECT COUNT(*) AS n FROM b');
      assert.equal(Number((rows as { n: number }[])[0]?.n), 4, 'DELETE FROM b after "SET SESSION TRANSACTION READ WRITE" through view.raw must not delete');
    } finally {
      await own.drop();
    }
  });

  /** Runs `fn` on a store over a caller-made mysql2 pool, then checks the pool is still open and writable for its owner. */
  async function withCallerPool(fn: (store: AbStore) => Promise<void>): Promise<void> {
    const pool = mysql.createPool({ uri: db.url, connectionLimit: 2 });
    try {
      {
        await using store = await openStore(abSchema, { origin: mysqlOrigin(pool) });
        await fn(store);
      }
      // The store did not close the caller's pool, nor leave its connections read-only.
      await pool.promise().query("UPDATE a SET name = 'a1' WHERE id = 1");
      await pool.promise().query("UPDATE a SET name = 'a1' WHERE id = 1");
    } finally {
      await pool.promise().end();
    }
  }

  it('view.raw reads through a caller-passed mysql2 pool', async () => {
    await withCallerPool(async (store) => {
      await using view = store.view();
      assert.equal((await view.A(1)).name, 'a1', 'lookups work through the pool');
      const step = await measure(db, store, () => view.raw('SELECT COUNT(*) AS n FROM b WHERE a_id = ?', [1]));
      assert.equal(Number(step.value[0]?.n), 3);
      assert.equal(step.originQueries, 1);
      assert.equal(step.selects, 1);
    });
  });

  it('view.query runs through a caller-passed mysql2 pool', async () => {
    await withCallerPool(async (store) => {
      await using view = store.view();
      const bs = await view.query('B', { tag: 'bs-desc', params: [1], sql: 'SELECT * FROM b WHERE a_id = ? ORDER BY id DESC' });
      assert.deepEqual(bs.map((b) => b.id), [3, 2, 1]);
    });
  });

  it('view.raw refuses writes on a caller-passed mysql2 pool; the origin is unchanged', async () => {
    await withCallerPool(async (store) => {
      const before = await originState();
      const outcomes = await writeOutcomes(store);
      assert.deepEqual({ outcomes, origin: await originState() }, { outcomes: allRefused, origin: before }, 'each write refused before it was sent, the origin data unchanged');
    });
  });

  for (const where of ['a cache file', 'the default in-memory cache'] as const) {
    it(`store.cacheSql queries ${where} read-only`, async () => {
      // In memory on another driver than the default, the cache is given, or it would be sqlite3's.
      const cache = where === 'a cache file' ? testCache(tmp.file('cachesql.db')) : TEST_CACHE_DRIVER === 'sqlite3' ? undefined : testCache();
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), ...(cache === undefined ? {} : { cache }) });
      {
        await using view = store.view();
        await (await view.A(1)).bs;
      }
      const step = await measure(db, store, () => store.cacheSql('SELECT COUNT(*) AS n FROM b', []));
      assert.equal(Number(step.value[0]?.n), 3, 'the three Bs of A 1 are cached');
      assert.equal(step.originQueries, 0);
      assert.equal(step.selects, 0);
      const byParam = await store.cacheSql('SELECT name FROM b WHERE a_id = ? ORDER BY id DESC', [1]);
      assert.deepEqual(byParam.map((r) => r.name), ['b3', 'b2', 'b1']);
      for (const sql of ['DELETE FROM b', "INSERT INTO b (id, name, a_id) VALUES (9, 'x', 1)", 'CREATE TABLE z (id INTEGER)', 'DELETE FROM ever_loaded']) {
        await assert.rejects(store.cacheSql(sql, []), /readonly|read-only|read only/i, sql);
      }
      const [after] = await store.cacheSql('SELECT COUNT(*) AS n FROM b', []);
      assert.equal(Number(after?.n), 3, 'nothing was deleted');
      assert.deepEqual(await store.cacheSql("SELECT name FROM sqlite_master WHERE name = 'z'", []), []);
      // The cache still takes writes of its own afterwards, and still knows what it had.
      {
        await using view = store.view({ mode: Mode.PREFER_CACHE });
        const a1 = await view.A(1);
        assert.deepEqual((await a1.bs).map((b) => b.id), [1, 2, 3]);
        await (await view.A(2)).bs;
      }
      const [more] = await store.cacheSql('SELECT COUNT(*) AS n FROM b', []);
      assert.equal(Number(more?.n), 4);
    });
  }

  it('store.cacheSql works offline, on a store without an origin', async () => {
    const file = tmp.file('cachesql-offline.db');
    {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file) });
      await using view = store.view();
      await (await view.A(2)).bs;
    }
    await using store = await openStore(abSchema, { origin: null, cache: testCache(file) });
    assert.deepEqual(await store.cacheSql('SELECT id, name FROM b ORDER BY id', []), [{ id: 4, name: 'b4' }]);
    assert.equal(store.stats.originQueries, 0);
  });
});
