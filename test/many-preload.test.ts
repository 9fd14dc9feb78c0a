import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  belongsTo, defineSchema, entity, hasMany, Mode, mysqlOrigin, NotFoundError, openStore, type EntityOf,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

const schema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id') },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer' },
    relations: { a: belongsTo('A', 'a_id'), cs: hasMany('C', 'b_id') },
  }),
  C: entity({
    table: 'c', key: 'id',
    columns: { id: 'integer', name: 'text', b_id: 'integer', d_id: 'integer' },
    relations: { d: belongsTo('D', 'd_id') },
  }),
  D: entity({
    table: 'd', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: {},
  }),
});
type S = (typeof schema)['entities'];
type A = EntityOf<S, 'A'>;

/** A small tree (A 1..3) and a wide one: A 101..400, each with B 1000+n, each with C 2000+n under D 1. */
const WIDE = Array.from({ length: 300 }, (_, i) => 101 + i);
const TABLES = [
  'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, a_id INT NOT NULL, KEY (a_id))',
  'CREATE TABLE c (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, b_id INT NOT NULL, d_id INT NOT NULL, KEY (b_id))',
  'CREATE TABLE d (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  "INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')",
  "INSERT INTO b VALUES (1, 'b1', 1), (2, 'b2', 1), (3, 'b3', 2)",
  "INSERT INTO c VALUES (1, 'c1', 1, 1), (2, 'c2', 1, 2), (3, 'c3', 2, 1), (4, 'c4', 3, 3)",
  "INSERT INTO d VALUES (1, 'd1'), (2, 'd2'), (3, 'd3')",
  `INSERT INTO a VALUES ${WIDE.map((n) => `(${n}, 'a${n}')`).join(', ')}`,
  `INSERT INTO b VALUES ${WIDE.map((n) => `(${1000 + n}, 'b${1000 + n}', ${n})`).join(', ')}`,
  `INSERT INTO c VALUES ${WIDE.map((n) => `(${2000 + n}, 'c${2000 + n}', ${1000 + n}, 1)`).join(', ')}`,
];

/** The whole tree under some As, read through the relation getters: [a, [b, [c, d]]]. */
async function tree(as: readonly A[]): Promise<unknown> {
  return Promise.all(
    as.map(async (a) => [a.id, await Promise.all((await a.bs).map(async (b) => [b.id, await Promise.all((await b.cs).map(async (c) => [c.id, (await c.d).id]))]))]),
  );
}
const SMALL_TREE = [[1, [[1, [[1, 1], [2, 2]]], [2, [[3, 1]]]]], [2, [[3, [[4, 3]]]]], [3, []]];

describe('many() and preload', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  let n = 0;
  const cacheFile = () => tmp.file(`preload-${++n}.db`);
  before(async () => {
    db = await createTestDb(...TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  const online = (mode: Mode, file = cacheFile(), batchSize?: number) =>
    openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode, ...(batchSize === undefined ? {} : { batchSize }) });

  it('many(): one batch, entities in key order, the view\'s objects', async () => {
    await using store = await online(Mode.FRESHEN);
    await using view = store.view();
    const step = await measure(db, store, () => view.A.many([3, 1, 2]));
    assert.equal(step.originQueries, 1);
    assert.equal(step.selects, 1);
    assert.deepEqual(step.value.map((a) => a.id), [3, 1, 2]);
    assert.deepEqual(step.value.map((a) => a.name), ['a3', 'a1', 'a2']);
    const again = await measure(db, store, async () => [await view.A(1), await view.A.many([2, 2, 3])]);
    assert.equal(again.originQueries, 0);
    assert.equal(again.selects, 0);
    assert.equal(again.value[0], step.value[1]);
    assert.deepEqual(again.value[1], [step.value[2], step.value[2], step.value[0]]);
    assert.deepEqual(await view.A.many([]), []);
  });

  it('many(): missing keys reject with NotFoundError listing them; nullForMissing gives null in their place', async () => {
    await using store = await online(Mode.FRESHEN);
    await using view = store.view();
    const step = await measure(db, store, () =>
      view.A.many([1, 98, 2, 99]).then(
        () => assert.fail('expected NotFoundError'),
        (error: unknown) => error,
      ),
    );
    assert.equal(step.originQueries, 1);
    assert.equal(step.selects, 1);
    assert.ok(step.value instanceof NotFoundError);
    assert.equal(step.value.entity, 'A');
    assert.deepEqual(step.value.keys, [98, 99]);
    assert.match(step.value.message, /98/);
    assert.match(step.value.message, /99/);

    const nulls = await measure(db, store, () => view.A.many([1, 98, 2, 99], { nullForMissing: true }));
    assert.equal(nulls.originQueries, 0, 'all known to the view now, absent keys included');
    assert.equal(nulls.selects, 0, 'all known to the view now, absent keys included');
    assert.deepEqual(nulls.value.map((a) => a?.id ?? null), [1, null, 2, null]);
    assert.equal(nulls.value[0], await view.A(1));

    await using other = store.view();
    const fresh = await measure(db, store, () => other.A.many([97, 3], { nullForMissing: true }));
    assert.equal(fresh.originQueries, 1);
    assert.equal(fresh.selects, 1);
    assert.deepEqual(fresh.value.map((a) => a?.id ?? null), [null, 3]);
  });

  it('many(): in PREFER_CACHE the keys the cache lacks are one origin statement', async () => {
    const file = cacheFile();
    {
      await using warm = await online(Mode.FRESHEN, file);
      await warm.view().A.many([1, 2]);
    }
    await using store = await online(Mode.PREFER_CACHE, file);
    await using view = store.view();
    const step = await measure(db, store, () => view.A.many([3, 2, 1, 101, 102]));
    assert.equal(step.originQueries, 1);
    assert.equal(step.selects, 1);
    assert.deepEqual(step.value.map((a) => a.id), [3, 2, 1, 101, 102]);
  });

  for (const strategy of ['tree', 'levels'] as const) {
    it(`preload (${strategy}): a cold 3-level tree costs at most one origin statement per level; afterwards awaiting it sends nothing`, async () => {
      await using store = await online(Mode.PREFER_CACHE);
      await using view = store.view();
      const roots = await measure(db, store, () => view.A.many([1, 2, 3]));
      assert.equal(roots.originQueries, 1);
      assert.equal(roots.selects, 1);
      const preload = await measure(db, store, () => view.preload(roots.value, { bs: { cs: { d: true } } }, { strategy }));
      if (strategy === 'levels') assert.equal(preload.originQueries, 3, 'bs, cs, d: one statement per level');
      else assert.ok(preload.originQueries >= 1 && preload.originQueries <= 3, `bs, cs, d: at most one statement per level; got ${preload.originQueries}`);
      assert.equal(preload.selects, preload.originQueries, 'the server counted the same');
      const read = await measure(db, store, () => tree(roots.value));
      assert.deepEqual(read.value, SMALL_TREE);
      assert.equal(read.originQueries, 0);
      assert.equal(read.selects, 0);
      assert.equal(read.cacheQueries, 0, 'not even the cache is asked');
      // And the cache holds it complete: an offline store answers the whole tree.
      await using off = await openStore(schema, { origin: null, cache: testCache(tmp.file(`preload-${n}.db`)), mode: Mode.OFFLINE });
      assert.deepEqual(await tree(await off.view().A.many([1, 2, 3], { include: { bs: { cs: { d: true } } } })), SMALL_TREE);
    });
  }

  it('preload: warm, in PREFER_CACHE, sends no origin statement; offline works too', async () => {
    const file = cacheFile();
    {
      await using warm = await online(Mode.FRESHEN, file);
      await using view = warm.view();
      await view.preload(await view.A.many([1, 2, 3]), { bs: { cs: { d: true } } });
    }
    {
      await using store = await online(Mode.PREFER_CACHE, file);
      await using view = store.view();
      const step = await measure(db, store, async () => {
        const as = await view.A.many([1, 2, 3]);
        await view.preload(as, { bs: { cs: { d: true } } });
        return as;
      });
      assert.equal(step.originQueries, 0);
      assert.equal(step.selects, 0);
      const read = await measure(db, store, () => tree(step.value));
      assert.deepEqual(read.value, SMALL_TREE);
      assert.equal(read.originQueries, 0);
      assert.equal(read.selects, 0);
      assert.equal(read.cacheQueries, 0);
    }
    await using store = await openStore(schema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    const as = await view.A.many([1, 2, 3], { include: { bs: { cs: { d: true } } } });
    const before = store.stats.cacheQueries;
    assert.deepEqual(await tree(as), SMALL_TREE);
    assert.equal(store.stats.cacheQueries, before);
  });

  it('the include option of view.A(key) and view.A.many(keys)', async () => {
    await using store = await online(Mode.FRESHEN);
    await using view = store.view();
    const one = await measure(db, store, () => view.A(1, { include: { bs: { cs: true } } }));
    assert.ok(one.originQueries >= 2 && one.originQueries <= 3, `A 1, then at most one statement for its bs and one for their cs; got ${one.originQueries}`);
    assert.equal(one.selects, one.originQueries, 'the server counted the same');
    const bs = await measure(db, store, async () => Promise.all((await one.value.bs).map((b) => b.cs)));
    assert.equal(bs.originQueries, 0);
    assert.equal(bs.selects, 0);
    assert.equal(bs.cacheQueries, 0);
    assert.deepEqual(bs.value.map((cs) => cs.map((c) => c.id)), [[1, 2], [3]]);

    await using other = store.view();
    const many = await measure(db, store, () => other.A.many([2, 3, 1], { include: { bs: { cs: { d: true } } } }));
    assert.ok(many.originQueries >= 2 && many.originQueries <= 4, `roots + at most 3 levels; got ${many.originQueries}`);
    assert.equal(many.selects, many.originQueries, 'the server counted the same');
    assert.deepEqual(many.value.map((a) => a.id), [2, 3, 1]);
    const read = await measure(db, store, () => tree(many.value));
    assert.deepEqual(read.value, [SMALL_TREE[1], SMALL_TREE[2], SMALL_TREE[0]]);
    assert.equal(read.originQueries, 0);
    assert.equal(read.selects, 0);
    assert.equal(read.cacheQueries, 0);

    const nulls = await other.A.many([1, 98], { include: { bs: true }, nullForMissing: true });
    assert.equal(nulls[1], null);
  });

  for (const strategy of ['tree', 'levels'] as const) {
    it(`FRESHEN (${strategy}): what the view already loaded from the origin is not asked again by a preload`, async () => {
      await using store = await online(Mode.FRESHEN);
      await using view = store.view();
      const a1 = await view.A(1);
      await a1.bs;
      const again = await measure(db, store, () => view.preload([a1], { bs: true }, { strategy }));
      assert.equal(again.originQueries, 0, 'A 1.bs came from the origin in this view already');
      assert.equal(again.selects, 0, 'A 1.bs came from the origin in this view already');
      const first = await measure(db, store, () => view.preload([a1], { bs: { cs: true } }, { strategy }));
      assert.equal(first.originQueries, 1, 'only the cs level is new');
      assert.equal(first.selects, 1, 'only the cs level is new');
      const twice = await measure(db, store, async () => {
        await view.A(1, { include: { bs: { cs: true } }, strategy });
        await view.A.many([1], { include: { bs: { cs: true } }, strategy });
      });
      assert.equal(twice.originQueries, 0, 'the same include again: all known to the view');
      assert.equal(twice.selects, 0, 'the same include again: all known to the view');
    });
  }

  it('an unknown relation in include is a TypeError naming it', async () => {
    await using store = await online(Mode.FRESHEN);
    await using view = store.view();
    const as = await view.A.many([1, 2]);
    const step = await measure(db, store, async () => {
      await assert.rejects(view.preload(as, { nope: true } as never), (e: unknown) => e instanceof TypeError && /nope/.test(e.message));
      await assert.rejects(view.preload(as, { bs: { zz: true } } as never), (e: unknown) => e instanceof TypeError && /zz/.test(e.message));
    });
    assert.equal(step.originQueries, 0, 'the include tree is checked before anything is loaded');
    assert.equal(step.selects, 0, 'the include tree is checked before anything is loaded');
    await assert.rejects(view.A(1, { include: { nope: true } as never }), (e: unknown) => e instanceof TypeError && /nope/.test(e.message));
    await assert.rejects(view.A.many([1], { include: { bs: { cs: { nope: true } } } as never }), (e: unknown) => e instanceof TypeError && /nope/.test(e.message));
  });

  it('300 parents: still one origin statement per level (under the default batchSize)', async () => {
    await using store = await online(Mode.FRESHEN);
    await using view = store.view();
    const step = await measure(db, store, async () => {
      const as = await view.A.many(WIDE);
      await view.preload(as, { bs: { cs: { d: true } } });
      return as;
    });
    assert.ok(step.originQueries >= 2 && step.originQueries <= 4, `roots + at most one statement per level; got ${step.originQueries}`);
    assert.equal(step.selects, step.originQueries, 'the server counted the same');
    assert.equal(step.value.length, 300);
    const read = await measure(db, store, async () => {
      let cs = 0;
      for (const a of step.value) for (const b of await a.bs) for (const c of await b.cs) cs += (await c.d).id === 1 ? 1 : 0;
      return cs;
    });
    assert.equal(read.value, 300);
    assert.equal(read.originQueries, 0);
    assert.equal(read.selects, 0);
    assert.equal(read.cacheQueries, 0);
  });

  it('past batchSize, level by level (strategy "levels"): each level splits exactly at batchSize', async () => {
    for (const count of [200, 201, 300]) {
      await using store = await online(Mode.FRESHEN, cacheFile(), 100);
      await using view = store.view();
      const keys = WIDE.slice(0, count);
      const per = Math.ceil(count / 100);
      const roots = await measure(db, store, () => view.A.many(keys));
      assert.equal(roots.originQueries, per);
      assert.equal(roots.selects, per, `${count} roots`);
      const bs = await measure(db, store, () => view.preload(roots.value, { bs: true }, { strategy: 'levels' }));
      assert.equal(bs.originQueries, per, `${count} parents of bs`);
      assert.equal(bs.selects, per, `${count} parents of bs`);
      const cs = await measure(db, store, () => view.preload(roots.value, { bs: { cs: true } }, { strategy: 'levels' }));
      assert.equal(cs.originQueries, per, `bs already loaded; ${count} parents of cs`);
      assert.equal(cs.selects, per, `bs already loaded; ${count} parents of cs`);
      const d = await measure(db, store, () => view.preload(roots.value, { bs: { cs: { d: true } } }, { strategy: 'levels' }));
      assert.equal(d.originQueries, 1, 'one D for all the Cs');
      assert.equal(d.selects, 1, 'one D for all the Cs');
    }
  });

  it('past batchSize, the default preload sends no origin statement with more than batchSize keys', async () => {
    const count = 201;
    await using store = await online(Mode.FRESHEN, cacheFile(), 100);
    await using view = store.view();
    const roots = await view.A.many(WIDE.slice(0, count));
    // Per origin event (one round trip, maybe several statements): the keys bound and the SELECT statements in it.
    const events: { params: number; selects: number }[] = [];
    const listener = (e: { target: string; sql: string; params: number }) => {
      if (e.target === 'origin') events.push({ params: e.params, selects: e.sql.split(/;\s*/).filter((t) => /^\s*SELECT\b/i.test(t)).length });
    };
    store.on('query', listener);
    try {
      const step = await measure(db, store, () => view.preload(roots, { bs: { cs: true } }));
      assert.ok(step.originQueries >= 2, 'two levels');
      assert.ok(events.length > 0, 'origin statements were reported');
      for (const e of events) {
        assert.ok(e.params <= 100 * e.selects, `an origin round trip of ${e.selects} SELECT(s) bound ${e.params} keys: more than batchSize 100 per statement`);
      }
    } finally {
      store.off('query', listener);
    }
    const read = await measure(db, store, async () => (await Promise.all(roots.map((a) => a.bs))).length);
    assert.equal(read.value, count);
    assert.equal(read.originQueries, 0);
    assert.equal(read.selects, 0);
  });
});
