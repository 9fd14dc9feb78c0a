import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2';
import { createStore, Mode, mysqlOrigin, NotLiveError, openStore, type EntityOf, type Store, type View } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { createTestDb, MYSQL_HOST, MYSQL_PORT, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
type AB = typeof abSchema.entities;

/** Runs one query on a callback-style mysql2 pool. */
function poolQuery(pool: mysql.Pool, sql: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => pool.query(sql, (error, rows) => (error ? reject(error) : resolve(rows as unknown[]))));
}

function poolEnd(pool: mysql.Pool): Promise<void> {
  return new Promise((resolve, reject) => pool.end((error) => (error ? reject(error) : resolve())));
}

describe('lifecycle', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('store.view() before open() throws NotLiveError', async () => {
    const store = createStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('before-open.db')) });
    assert.equal(store.isOpen, false);
    assert.throws(() => store.view(), NotLiveError);
    await store.open();
    assert.equal(store.isOpen, true);
    const view = store.view();
    assert.equal((await view.A(1)).name, 'a1');
    await store.close();
  });

  it('store.view() after close() throws NotLiveError', async () => {
    const store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('after-close.db')) });
    await store.close();
    assert.equal(store.isOpen, false);
    assert.throws(() => store.view(), NotLiveError);
  });

  it('open() on a closed store rejects with NotLiveError', async () => {
    const store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('reopen.db')) });
    await store.close();
    await assert.rejects(store.open(), NotLiveError);
    // Also a store closed before it was ever opened.
    const never = createStore(abSchema, { origin: mysqlOrigin(db.url) });
    await never.close();
    await assert.rejects(never.open(), NotLiveError);
    assert.throws(() => never.view(), NotLiveError);
  });

  it('after view.close(), lookups, column reads and relation reads raise NotLiveError', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('view-close.db')), mode: Mode.FRESHEN });
    const view = store.view();
    const a = await view.A(1);
    const [b] = await a.bs;
    assert.ok(b);
    assert.equal(a.name, 'a1');
    assert.equal(view.closed, false);
    view.close();
    assert.equal(view.closed, true);

    // Lookups reject (also for a key already in the view's memory, and a new one).
    await assert.rejects(view.A(1), NotLiveError);
    await assert.rejects(view.A(2), NotLiveError);
    await assert.rejects(view.B(1), NotLiveError);
    // Column getters throw synchronously.
    assert.throws(() => a.name, NotLiveError);
    assert.throws(() => a.id, NotLiveError);
    assert.throws(() => b.a_id, NotLiveError);
    // Relations: a sync throw or a rejection are both accepted.
    await assert.rejects(async () => await a.bs, NotLiveError);
    await assert.rejects(async () => await a.b, NotLiveError);
    await assert.rejects(async () => await b.a, NotLiveError);
    // The store itself is still live: a new view works.
    const other = store.view();
    assert.equal((await other.A(1)).name, 'a1');
  });

  it('objects of a live view raise NotLiveError once the store is closed', async () => {
    const store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('store-close.db')) });
    const view = store.view();
    const a = await view.A(1);
    await store.close();
    await assert.rejects(view.A(2), NotLiveError);
    await assert.rejects(async () => await a.bs, NotLiveError);
  });

  it('a lookup whose origin statement is in flight when the store closes resolves or rejects with NotLiveError', async () => {
    const store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('in-flight.db')), mode: Mode.FRESHEN });
    const view = store.view();
    const a1 = await view.A(1);
    const started = store.stats.originQueries;
    const lookup = view.A(2);
    const relation = a1.bs;
    // Wait until both statements were sent to the origin, then close while they run.
    for (let i = 0; i < 10_000 && store.stats.originQueries < started + 2; i++) await new Promise((r) => setImmediate(r));
    assert.equal(store.stats.originQueries, started + 2, 'both statements were sent');
    const closing = store.close();
    const outcomes = await Promise.allSettled([lookup, relation]);
    await closing;
    for (const [what, o] of [['view.A(2)', outcomes[0]], ['a1.bs', outcomes[1]]] as const) {
      if (o.status === 'rejected') {
        const e = o.reason as Error;
        assert.ok(e instanceof NotLiveError, `${what} in flight at close: expected a result or NotLiveError, got ${e.name}: ${e.message}`);
      }
    }
  });

  it('await using closes the view and the store at the end of the block', async () => {
    let outerStore: Store<AB> | undefined;
    let outerView: View<AB> | undefined;
    let a: EntityOf<AB, 'A'> | undefined;
    {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('using.db')) });
      await using view = store.view();
      outerStore = store;
      outerView = view;
      a = await view.A(2);
      assert.equal(a.name, 'a2');
      assert.equal(store.isOpen, true);
      assert.equal(view.closed, false);
    }
    assert.equal(outerView.closed, true);
    assert.equal(outerStore.isOpen, false);
    assert.throws(() => a.name, NotLiveError);
    await assert.rejects(outerView.A(1), NotLiveError);
    assert.throws(() => outerStore.view(), NotLiveError);
  });

  it('using (sync dispose) on a view closes it', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url) });
    let outer: View<AB> | undefined;
    {
      using view = store.view();
      outer = view;
      assert.equal((await view.A(3)).name, 'a3');
    }
    assert.equal(outer.closed, true);
    await assert.rejects(outer.A(3), NotLiveError);
  });

  it('closing the store closes a pool it made from a URL', async () => {
    const store = await openStore(abSchema, { origin: mysqlOrigin(db.url), mode: Mode.FRESHEN });
    const view = store.view();
    await view.A(1);
    // The server sees this store's connection while it is open...
    const [before] = await db.admin.query(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?`, [db.name]);
    const openCount = Number((before as { n: number }[])[0]?.n);
    assert.ok(openCount >= 2, `expected the admin connection and the store's pool connection, saw ${openCount}`);
    await store.close();
    // ...and not after close (the admin connection itself uses the db too; compare the counts).
    let closedCount = openCount;
    for (let i = 0; i < 50 && closedCount >= openCount; i++) {
      const [rows] = await db.admin.query(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?`, [db.name]);
      closedCount = Number((rows as { n: number }[])[0]?.n);
      if (closedCount >= openCount) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(closedCount < openCount, `connections to ${db.name}: ${openCount} while open, ${closedCount} after close`);
  });

  it('closing the store does NOT close a mysql2 pool the caller passed in', async () => {
    const pool = mysql.createPool({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root', database: db.name, connectionLimit: 2 });
    try {
      const store = await openStore(abSchema, { origin: mysqlOrigin(pool), mode: Mode.FRESHEN });
      const view = store.view();
      const a = await view.A(1);
      assert.equal(a.name, 'a1');
      assert.deepEqual((await a.bs).map((b) => b.id), [1, 2, 3]);
      await store.close();
      assert.equal(store.isOpen, false);
      const rows = (await poolQuery(pool, 'SELECT name FROM a WHERE id = 2')) as { name: string }[];
      assert.deepEqual(rows.map((r) => r.name), ['a2']);
    } finally {
      await poolEnd(pool);
    }
    // Ending it ourselves works (it was still ours to end) and afterwards it refuses queries.
    await assert.rejects(poolQuery(pool, 'SELECT 1'));
  });

  it('closing the store does NOT close a pool passed as { pool }', async () => {
    const pool = mysql.createPool({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root', database: db.name, connectionLimit: 2 });
    try {
      await using store = await openStore(abSchema, { origin: mysqlOrigin({ pool }) });
      await using view = store.view();
      assert.equal((await view.A(2)).name, 'a2');
      await store.close();
      const rows = (await poolQuery(pool, 'SELECT COUNT(*) AS n FROM b')) as { n: number }[];
      assert.equal(Number(rows[0]?.n), 4);
    } finally {
      await poolEnd(pool);
    }
  });

  it('stores over one schema share their entity classes, and each object still answers to its own view', async () => {
    await using first = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('shared-class-1.db')) });
    await using second = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('shared-class-2.db')) });
    const v1 = first.view();
    const v2 = second.view();
    const a1 = await v1.A(1);
    const a2 = await v2.A(1);
    // One class: a process opening store after store keeps one shape per entity.
    assert.equal(Object.getPrototypeOf(a1), Object.getPrototypeOf(a2));
    assert.notEqual(a1, a2);
    assert.equal((await a2.bs).length, (await a1.bs).length);
    v1.close();
    // The first view's objects are closed; the second's, of the same class, are not.
    assert.throws(() => a1.name, NotLiveError);
    assert.equal(a2.name, 'a1');
    assert.equal((await a2.bs)[0]?.a_id, 1);
    v2.close();
  });
});
