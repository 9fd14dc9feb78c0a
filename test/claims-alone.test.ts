// Claims cost nothing alone (issue 16): a store alone on its cache file, or in memory, sends no claim, release or local-version read on a lookup's path; claims resume once another store opens the file.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore, type Store } from 'asyncdbview';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { testCache } from './helpers/cache-driver.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { createTestDb, MYSQL_HOST, MYSQL_PORT, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { FaultProxy } from './helpers/proxy.js';
import { tempDir } from './helpers/tmp.js';
import { startWorker } from './helpers/worker-process.js';

const skip = await mysqlSkipReason();

type AbStore = Store<typeof abSchema.entities>;

/** The cache statements a store sends, as SQL text, from now on. */
function heard(store: AbStore): { sql: string[]; take(): string[] } {
  const sql: string[] = [];
  store.on('query', (e) => {
    if (e.target === 'cache') sql.push(e.sql);
  });
  return { sql, take: () => sql.splice(0) };
}

const claims = (sql: readonly string[]) => sql.filter((s) => /^INSERT INTO adbv_fetching/.test(s)).length;
const releases = (sql: readonly string[]) => sql.filter((s) => /^DELETE FROM adbv_fetching/.test(s)).length;
const versionReads = (sql: readonly string[]) => sql.filter((s) => /^SELECT CAST\(fingerprint AS INTEGER\) AS v FROM adbv_meta/.test(s)).length;

/** What the origin has: A `id`'s name and its bs' names in key order. */
async function originA(db: TestDb, id: number): Promise<{ name: string; bs: string[] }> {
  const [[a]] = (await db.admin.query('SELECT name FROM a WHERE id = ?', [id])) as unknown as [{ name: string }[]];
  const [bs] = (await db.admin.query('SELECT name FROM b WHERE a_id = ? ORDER BY id', [id])) as unknown as [{ name: string }[]];
  return { name: (a as { name: string }).name, bs: bs.map((b) => b.name) };
}

/** A in a FRESHEN view (the origin, once per view) with its bs: the view's answer. */
async function freshA(store: AbStore, id: number): Promise<{ name: string; bs: string[] }> {
  await using view = store.view({ mode: Mode.FRESHEN });
  const a = await view.A(id);
  return { name: a.name, bs: (await a.bs).map((b) => b.name) };
}

describe('claims alone (issue 16): none while no other store shares the file, again once one does', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...AB_TABLES, "INSERT INTO a VALUES (4, 'a4'), (5, 'a5'), (6, 'a6')", "INSERT INTO b VALUES (5, 'b5', 4), (6, 'b6', 5), (7, 'b7', 6)");
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  for (const where of ['a file', 'memory'] as const) {
    it(`alone in ${where}: origin batches send no claim, no release, and read the local-change version once`, async () => {
      const file = where === 'memory' ? undefined : tmp.file('alone.db');
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file) });
      const log = heard(store);
      assert.deepEqual(await freshA(store, 1), await originA(db, 1));
      await store.flush();
      const first = log.take();
      assert.equal(claims(first) + releases(first), 0, `no claim or release:\n${first.join('\n')}`);
      for (const id of [2, 3, 4]) {
        assert.deepEqual(await freshA(store, id), await originA(db, id));
        await store.flush();
        const sql = log.take();
        assert.equal(claims(sql) + releases(sql), 0, `A ${id}: no claim or release:\n${sql.join('\n')}`);
        assert.equal(versionReads(sql), 0, `A ${id}: the local-change version is known:\n${sql.join('\n')}`);
      }
      // A local change of this store's own moves the version: its next origin answers show it.
      {
        await using view = store.view();
        await view.B.patch(5, { name: 'b5*' });
      }
      assert.deepEqual(await freshA(store, 4), { name: 'a4', bs: ['b5*'] });
      assert.equal(claims(log.sql) + releases(log.sql), 0);
      if (file !== undefined) assert.deepEqual(await queryCacheFile(file, 'SELECT * FROM adbv_fetching'), []);
    });
  }

  it('another process opens the file: from the next batch on, batches claim and release again; alone again once it has gone', async () => {
    const file = tmp.file('joined.db');
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file) });
    const log = heard(store);
    assert.deepEqual(await freshA(store, 1), await originA(db, 1));
    await store.flush();
    assert.equal(claims(log.take()), 0, 'alone: no claim');

    const other = startWorker('hold-open.js', { file, variant: 'ab' });
    try {
      assert.equal(await other.line('open'), '');
      // The first batch may not know yet (its write notices the newcomer): right answers either way.
      assert.deepEqual(await freshA(store, 2), await originA(db, 2));
      await store.flush();
      log.take();
      for (const id of [3, 4]) {
        assert.deepEqual(await freshA(store, id), await originA(db, id));
        await store.flush();
        const sql = log.take();
        assert.ok(claims(sql) >= 2, `A ${id}: A and A.bs claimed:\n${sql.join('\n')}`);
        assert.ok(releases(sql) >= 2, `A ${id}: and released by their merge`);
      }
      assert.deepEqual(await queryCacheFile(file, 'SELECT * FROM adbv_fetching'), [], 'no claim left behind');
      other.child.stdin!.write('read\n');
      assert.deepEqual(JSON.parse(await other.line('read')), ['b1', 'b2', 'b3', 'b4'], 'the other process reads what this one wrote');
      other.child.stdin!.write('close\n');
      await other.line('closed');
    } finally {
      other.child.kill();
      await other.exited;
    }
    // The next write notices the other has gone; after it, no claim again.
    assert.deepEqual(await freshA(store, 5), await originA(db, 5));
    await store.flush();
    log.take();
    assert.deepEqual(await freshA(store, 6), await originA(db, 6));
    await store.flush();
    const sql = log.take();
    assert.equal(claims(sql) + releases(sql), 0, `alone again:\n${sql.join('\n')}`);
    assert.deepEqual(await queryCacheFile(file, 'SELECT * FROM adbv_fetching'), []);
  });

  it('another store of this process opens the file: the first claims from its very next batch and shows the local changes the other makes', async () => {
    const file = tmp.file('in-process.db');
    await using first = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file) });
    const log = heard(first);
    assert.deepEqual(await freshA(first, 1), await originA(db, 1));
    await first.flush();
    assert.equal(claims(log.take()), 0);
    {
      await using second = await openStore(abSchema, { origin: null, cache: testCache(file) });
      assert.deepEqual(await freshA(first, 2), await originA(db, 2));
      await first.flush();
      assert.ok(claims(log.take()) >= 2, 'claimed at once: the second store committed its registration');
      {
        await using view = second.view();
        await view.B.patch(4, { name: 'b4*' });
      }
      // Origin answers of the first store show the other's change: it reads the version again.
      assert.deepEqual(await freshA(first, 2), { name: 'a2', bs: ['b4*'] });
      {
        await using view = first.view({ mode: Mode.FRESHEN });
        assert.equal((await view.B(4)).name, 'b4*');
      }
      await first.flush();
    }
    await freshA(first, 3);
    await first.flush();
    log.take();
    assert.deepEqual(await freshA(first, 4), await originA(db, 4));
    await first.flush();
    assert.equal(claims(log.take()), 0, 'alone again once the other closed');
  });
  it("a store that waited on another store's claim and was then left alone reads back what the other completed: it does not fetch it", async () => {
    const file = tmp.file('left-alone.db');
    // The other store reaches the origin through a proxy that holds its statement: its claim stands, for
    // sure, while the waiter asks.
    const gate = new FaultProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    const gatedUrl = db.url.replace(`@${MYSQL_HOST}:${MYSQL_PORT}/`, `@127.0.0.1:${await gate.listen()}/`);
    try {
      await using waiter = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file, { commitDelayMs: 0 }), mode: Mode.PREFER_CACHE });
      const fetched: string[] = [];
      let claimTried: () => void = () => undefined;
      let claimCount = 0;
      const tried = new Promise<void>((resolve) => (claimTried = resolve));
      waiter.on('query', (e) => {
        if (e.target === 'origin' && e.sql.includes('FROM `a`')) fetched.push(`A×${e.params}`);
        else if (/^INSERT INTO adbv_fetching/.test(e.sql)) {
          claimCount++;
          claimTried();
        }
      });
      const other = await openStore(abSchema, { origin: mysqlOrigin(gatedUrl), cache: testCache(file), mode: Mode.PREFER_CACHE });
      await other.warmUp();
      gate.stall();
      const otherView = other.view();
      const theirs = otherView.A(5);
      await gate.held();
      const waiterView = waiter.view();
      const mine = waiterView.A(5);
      await tried; // the waiter found A 5 claimed by the other: it waits for it
      await gate.pass();
      assert.equal((await theirs).name, 'a5');
      otherView.close();
      await other.close(); // its answer committed, and it has left the file
      // A write transaction of the waiter (discarding local changes, of which it has none): it looks around
      // and finds itself alone, well before its next look at the claim (every 20 ms).
      assert.equal(await waiter.discardLocalChanges(), 0);
      assert.equal((await mine).name, 'a5');
      waiterView.close();
      assert.deepEqual(fetched, [], 'the waiter fetched no A: A 5 it read back from the cache');
      // It is alone now: its next origin batch takes no claim.
      const claimsBefore = claimCount;
      {
        await using view = waiter.view();
        assert.equal((await view.A(6)).name, 'a6');
      }
      assert.equal(claimCount, claimsBefore, 'alone: no claim');
    } finally {
      await gate.close();
    }
  });
});
