// view.X(key, { include }) calls made in one tick are one batch: one tree, one round trip (issue: same-tick batching).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { CountingProxy, SESSION_SETUP, statementsOf } from './helpers/counting-proxy.js';
import { countSelects, createTestDb, MYSQL_HOST, MYSQL_PORT, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { readTruth, treeSchema, treeTables, type Truth } from './helpers/tree.js';

const skip = await mysqlSkipReason();

describe('view.X(key, { include }) in one tick', { skip }, () => {
  let db: TestDb;
  let truth: Truth;
  let proxy: CountingProxy;
  let url: string;
  before(async () => {
    db = await createTestDb(...treeTables(20, 3, 2, 7));
    truth = await readTruth(db.admin);
    proxy = new CountingProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    const port = await proxy.listen();
    url = db.url.replace(`@${MYSQL_HOST}:${MYSQL_PORT}/`, `@127.0.0.1:${port}/`);
  });
  after(async () => {
    await proxy.close();
    await db.drop();
  });

  /** Runs `fn` and returns the round trips it sent (session set-up and pings left out) and the server's SELECT count. */
  async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; roundTrips: string[][]; selects: number }> {
    const mark = proxy.mark();
    const { value, selects } = await countSelects(db, fn);
    const roundTrips = proxy
      .roundTripsSince(mark)
      .filter((c) => c.sql !== undefined && c.sql !== SESSION_SETUP)
      .map((c) => statementsOf(c.sql as string).filter((s) => /^(WITH|SELECT)\b/.test(s)));
    return { value, roundTrips, selects };
  }

  for (const mode of [Mode.FRESHEN, Mode.PREFER_CACHE]) {
    it(`${mode}: two lookups with an empty include are one statement in one round trip`, async () => {
      await using store = await openStore(treeSchema, { origin: mysqlOrigin(url), cache: testCache(), mode });
      await store.warmUp();
      await using view = store.view();
      const { value, roundTrips, selects } = await measure(() => Promise.all([view.A(1, { include: {} }), view.A(2, { include: {} })]));
      assert.deepEqual(value.map((a) => a.name), [truth.aName.get(1), truth.aName.get(2)]);
      assert.equal(roundTrips.length, 1, `one round trip, got ${JSON.stringify(roundTrips)}`);
      assert.equal(selects, 1, 'one SELECT at the server');
      assert.equal(store.stats.originRoundTrips, 1);
    });

    it(`${mode}: two lookups with { bs: { cs: true } } are one statement per level in one round trip`, async () => {
      await using store = await openStore(treeSchema, { origin: mysqlOrigin(url), cache: testCache(), mode });
      await store.warmUp();
      await using view = store.view();
      const include = { bs: { cs: true } } as const;
      const { value, roundTrips, selects } = await measure(() => Promise.all([view.A(3, { include }), view.A(4, { include }), view.A.many([5], { include })]));
      assert.equal(roundTrips.length, 1, `one round trip, got ${JSON.stringify(roundTrips)}`);
      assert.equal(selects, 3, 'A, A.bs and B.cs: one SELECT each');
      const sent = store.stats.originQueries;
      for (const [i, a] of [value[0], value[1], value[2][0]].entries()) {
        const id = [3, 4, 5][i] as number;
        assert.equal(a?.id, id);
        const bs = await a!.bs;
        assert.deepEqual(bs.map((b) => b.id), truth.bsOf.get(id) ?? []);
        for (const b of bs) assert.deepEqual((await b.cs).map((c) => c.id), truth.csOf.get(b.id) ?? []);
      }
      assert.equal(store.stats.originQueries, sent, 'the included relations were loaded by the one round trip');
    });
  }

  it('lookups with different include trees are one round trip each tree, and their roots the same objects', async () => {
    await using store = await openStore(treeSchema, { origin: mysqlOrigin(url), cache: testCache(), mode: Mode.FRESHEN });
    await store.warmUp();
    await using view = store.view();
    const { value, roundTrips } = await measure(() => Promise.all([view.A(6, { include: { bs: true } }), view.A(6, { include: {} }), view.A(7, { include: { bs: true } })]));
    assert.equal(value[0], value[1], 'one object per row');
    assert.equal(roundTrips.length, 2, `one round trip per tree shape, got ${JSON.stringify(roundTrips)}`);
  });
});
