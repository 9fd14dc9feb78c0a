import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  belongsTo, defineSchema, entity, hasMany, IsOfflineError, Mode, mysqlOrigin, NotFoundError, openStore,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** The quick-start tables, with A.bs capped to OFFLINE and B.a not capped at all. */
const cappedSchema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id', { mode: Mode.OFFLINE }) },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer' },
    relations: { a: belongsTo('A', 'a_id') },
  }),
});

describe('modes', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  let n = 0;
  const cacheFile = () => tmp.file(`modes-${++n}.db`);
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('OFFLINE never touches the origin: what the cache lacks is IsOfflineError', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.OFFLINE });
    await using view = store.view();
    assert.equal(view.mode, Mode.OFFLINE);
    const cold = await measure(db, store, async () => {
      await assert.rejects(view.A(1), IsOfflineError);
      await assert.rejects(view.B(99), IsOfflineError);
    });
    assert.equal(cold.selects, 0);
    assert.equal(cold.originQueries, 0);
    assert.ok(cold.cacheQueries > 0, 'the cache was asked');

    // Warm part of the cache through a FRESHEN view of the same store, then go offline again.
    {
      await using online = store.view({ mode: Mode.FRESHEN });
      const a1 = await online.A(1);
      await a1.bs;
      await assert.rejects(online.B(99), NotFoundError);
    }
    await using offline = store.view();
    const warm = await measure(db, store, async () => {
      const a1 = await offline.A(1);
      const bs = await a1.bs;
      assert.deepEqual(bs.map((b) => b.id), [1, 2, 3]);
      assert.equal(await bs[0]?.a, a1);
      await assert.rejects(offline.B(99), NotFoundError);
      await assert.rejects(offline.A(2), IsOfflineError);
      await assert.rejects(a1.b, IsOfflineError);
    });
    assert.equal(warm.selects, 0);
    assert.equal(warm.originQueries, 0);
  });

  it('PREFER_CACHE answers complete lookups from the cache and goes to the origin for the rest', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.PREFER_CACHE });
    {
      await using warm = store.view({ mode: Mode.FRESHEN });
      const [a1, a3] = await Promise.all([warm.A(1), warm.A(3)]);
      await Promise.all([a1.bs, a3.bs]);
      await assert.rejects(warm.B(99), NotFoundError);
    }
    await using view = store.view();
    assert.equal(view.mode, Mode.PREFER_CACHE);
    const hits = await measure(db, store, async () => {
      const [a1, a3] = await Promise.all([view.A(1), view.A(3)]);
      const [bs1, bs3] = await Promise.all([a1.bs, a3.bs]);
      assert.deepEqual(bs1.map((b) => b.name), ['b1', 'b2', 'b3']);
      assert.deepEqual(bs3, []);
      assert.equal(await view.B(2), bs1[1]);
      await assert.rejects(view.B(99), NotFoundError, 'absence recorded in the cache is an answer');
    });
    assert.equal(hits.selects, 0, 'complete lookups: no origin SELECT');
    assert.equal(hits.originQueries, 0);

    const a2 = await measure(db, store, () => view.A(2));
    assert.equal(a2.value.name, 'a2');
    assert.equal(a2.selects, 1, 'A 2 is not in the cache: the origin');
    assert.equal(a2.originQueries, 1);
    const bs2 = await measure(db, store, async () => a2.value.bs);
    assert.deepEqual(bs2.value.map((b) => b.id), [4]);
    assert.equal(bs2.selects, 1);
    const one = await measure(db, store, async () => (await view.A(1)).b);
    assert.equal(one.value?.id, 1);
    assert.equal(one.selects, 1, 'hasOne A.b was never loaded: the origin, although A.bs of A 1 is complete');

    // Now complete: a new PREFER_CACHE view answers all of it from the cache.
    await using again = store.view();
    const later = await measure(db, store, async () => {
      const a = await again.A(2);
      return (await a.bs).map((b) => b.id);
    });
    assert.deepEqual(later.value, [4]);
    assert.equal(later.selects, 0);
  });

  it('FRESHEN goes to the origin once per view', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    await using view = store.view();
    const first = await measure(db, store, () => view.A(1));
    assert.equal(first.selects, 1);
    const second = await measure(db, store, () => view.A(1));
    assert.equal(second.value, first.value);
    assert.equal(second.selects, 0, 'second await in the same view');
    assert.equal(second.originQueries, 0);
    const bs = await measure(db, store, async () => first.value.bs);
    assert.equal(bs.selects, 1);
    const bsAgain = await measure(db, store, async () => first.value.bs);
    assert.equal(bsAgain.selects, 0);
    assert.equal(bsAgain.value, bs.value);
    const byKey = await measure(db, store, () => view.B(3));
    assert.equal(byKey.selects, 0, 'B 3 came from the origin in this view with A 1.bs');
    assert.equal(byKey.value, bs.value[2]);

    // A new view asks again, although the cache has it all complete.
    await using next = store.view();
    const fresh = await measure(db, store, async () => {
      const a1 = await next.A(1);
      return a1.bs;
    });
    assert.equal(fresh.selects, 2, 'A 1 and A 1.bs again from the origin');
    assert.equal(fresh.originQueries, 2);
    assert.deepEqual(fresh.value.map((b) => b.id), [1, 2, 3]);
  });

  it('FRESHEN asks the origin for a row the view so far only has from the cache', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    {
      await using warm = store.view();
      await warm.A(1);
    }
    await using view = store.view();
    const b1 = await view.B(1);
    const parent = await measure(db, store, async () => b1.a);
    assert.equal(parent.selects, 0, 'b.a is capped to PREFER_CACHE: A 1 from the cache');
    const a1 = await measure(db, store, () => view.A(1));
    assert.equal(a1.selects, 1, 'view.A(1) in FRESHEN: the cached row is not fresh, so the origin');
    assert.equal(a1.value, parent.value, 'and it is still the same object');
  });

  it('a relation mode caps a FRESHEN view (b.a in the quick-start schema is PREFER_CACHE)', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    {
      await using warm = store.view();
      const a1 = await warm.A(1);
      await a1.bs;
    }
    await using view = store.view();
    const [b1, b4] = await Promise.all([view.B(1), view.B(4)]);
    const capped = await measure(db, store, async () => b1.a);
    assert.equal(capped.value.id, 1);
    assert.equal(capped.selects, 0, 'A 1 is in the cache: the capped relation does not go to the origin');
    assert.equal(capped.originQueries, 0);
    const missing = await measure(db, store, async () => b4.a);
    assert.equal(missing.value.id, 2);
    assert.equal(missing.selects, 1, 'A 2 is not in the cache: PREFER_CACHE goes to the origin');
    // An uncapped relation of the same view does go to the origin although the cache has it complete.
    const a1 = await capped.value;
    const uncapped = await measure(db, store, async () => a1.bs);
    assert.equal(uncapped.selects, 1);
  });

  it('a relation capped to OFFLINE never goes to the origin, even in a FRESHEN view', async () => {
    await using store = await openStore(cappedSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    await using view = store.view();
    const [a1, a2] = await Promise.all([view.A(1), view.A(2)]);
    const cold = await measure(db, store, async () => assert.rejects(a1.bs, IsOfflineError));
    assert.equal(cold.selects, 0);
    assert.equal(cold.originQueries, 0);
    // B.a is not capped: FRESHEN, so A 1 comes from the origin (once per view: A 1 was already fresh).
    const b4 = await view.B(4);
    const parent = await measure(db, store, async () => b4.a);
    assert.equal(parent.value, a2);
    assert.equal(parent.selects, 0, 'A 2 already fresh in this view');
  });

  it('view.mode can be changed on the fly and applies to later lookups', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    await using view = store.view({ mode: Mode.OFFLINE });
    const offline = await measure(db, store, async () => assert.rejects(view.A(2), IsOfflineError));
    assert.equal(offline.selects, 0);

    view.mode = Mode.PREFER_CACHE;
    assert.equal(view.mode, Mode.PREFER_CACHE);
    const prefer = await measure(db, store, () => view.A(2));
    assert.equal(prefer.selects, 1);
    const a2 = prefer.value;

    view.mode = Mode.OFFLINE;
    const known = await measure(db, store, () => view.A(2));
    assert.equal(known.value, a2, 'known in the view: answered offline');
    assert.equal(known.selects, 0);
    const rel = await measure(db, store, async () => assert.rejects(a2.bs, IsOfflineError));
    assert.equal(rel.selects, 0, 'a relation read while OFFLINE is offline');

    view.mode = Mode.PREFER_CACHE;
    const relOnline = await measure(db, store, async () => a2.bs);
    assert.deepEqual(relOnline.value.map((b) => b.id), [4]);
    assert.equal(relOnline.selects, 1, 'the same relation after switching to PREFER_CACHE');

    view.mode = Mode.FRESHEN;
    const freshKnown = await measure(db, store, () => view.A(2));
    assert.equal(freshKnown.value, a2);
    assert.equal(freshKnown.selects, 0, 'A 2 came from the origin in this view already');
    const freshA1 = await measure(db, store, () => view.A(1));
    assert.equal(freshA1.selects, 1);

    assert.throws(() => {
      view.mode = 'online' as Mode;
    }, TypeError);
    assert.equal(view.mode, Mode.FRESHEN);
  });

  it('store.view({ mode }) overrides the store mode; store.mode sets the default of later views', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    assert.equal(store.mode, Mode.FRESHEN);
    await using plain = store.view();
    await using offline = store.view({ mode: Mode.OFFLINE });
    assert.equal(plain.mode, Mode.FRESHEN);
    assert.equal(offline.mode, Mode.OFFLINE);
    const off = await measure(db, store, async () => assert.rejects(offline.A(1), IsOfflineError));
    assert.equal(off.selects, 0);
    const on = await measure(db, store, () => plain.A(1));
    assert.equal(on.selects, 1);

    store.mode = Mode.PREFER_CACHE;
    await using later = store.view();
    assert.equal(later.mode, Mode.PREFER_CACHE);
    assert.equal(plain.mode, Mode.FRESHEN, 'views already made keep their mode');
    const cached = await measure(db, store, () => later.A(1));
    assert.equal(cached.selects, 0, 'PREFER_CACHE: A 1 is in the cache now');
    const freshAgain = await measure(db, store, () => store.view().A(1));
    assert.equal(freshAgain.selects, 0, 'default view is PREFER_CACHE now');
    const override = await measure(db, store, () => store.view({ mode: Mode.FRESHEN }).A(1));
    assert.equal(override.selects, 1, 'a FRESHEN override still goes to the origin');
    assert.throws(() => store.view({ mode: 'sometimes' as Mode }), TypeError);
  });

  it('a store without an origin defaults to OFFLINE', async () => {
    await using store = await openStore(abSchema, { origin: null, cache: testCache() });
    assert.equal(store.mode, Mode.OFFLINE);
    await using view = store.view({ mode: Mode.FRESHEN });
    await assert.rejects(view.A(1), IsOfflineError, 'even a FRESHEN view of a store without origin is offline');
    assert.equal(store.stats.originQueries, 0);
  });
});
