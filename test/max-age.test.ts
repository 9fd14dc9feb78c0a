import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { belongsTo, defineSchema, entity, hasMany, Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES } from './helpers/ab-schema.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** Long enough that the "still fresh" checks right after warming are well inside it, short enough to wait out. */
const MAX_AGE = 1000;
const WAIT = MAX_AGE + 300;

/** The quick-start tables: A with a maxAge, A.bs with a maxAge, A.allBs and B without. */
const schema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id', { maxAge: MAX_AGE }), allBs: hasMany('B', 'a_id') },
    maxAge: MAX_AGE,
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer' },
    relations: { a: belongsTo('A', 'a_id') },
  }),
});

const BS_DESC = { tag: 'bs-desc', params: [1], sql: 'SELECT * FROM b WHERE a_id = ? ORDER BY id DESC' };
const AGED = { ...BS_DESC, maxAge: MAX_AGE };

describe('maxAge', { skip }, () => {
  let db: TestDb;
  let file: string;
  let n = 0;
  const tmp = tempDir();
  beforeEach(async () => {
    db = await createTestDb(...AB_TABLES);
    file = tmp.file(`max-age-${++n}.db`);
    // Warm: A 1, A 2, B 4 by key; A 1.bs and A 1.allBs; the custom query.
    await using store = await online(Mode.FRESHEN);
    await using view = store.view();
    const [a1] = await view.A.many([1, 2]);
    await Promise.all([a1!.bs, a1!.allBs, view.B(4), view.query('B', BS_DESC)]);
  });
  afterEach(async () => {
    await db.drop();
  });
  after(() => tmp.remove());

  function online(mode: Mode) {
    return openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode });
  }

  it('PREFER_CACHE: fresh lookups come from the cache; older than maxAge they go to the origin; the rest never age', async () => {
    await db.exec("UPDATE a SET name = 'a1 renamed' WHERE id = 1", "INSERT INTO b VALUES (5, 'b5', 1)");
    await using store = await online(Mode.PREFER_CACHE);
    {
      await using view = store.view();
      const fresh = await measure(db, store, async () => {
        const a1 = await view.A(1);
        return [a1.name, (await a1.bs).length, (await view.query('B', AGED)).length];
      });
      assert.equal(fresh.originQueries, 0, 'younger than maxAge: the cache');
      assert.equal(fresh.selects, 0, 'younger than maxAge: the cache');
      assert.deepEqual(fresh.value, ['a1', 3, 3]);
    }
    await sleep(WAIT);
    await using view = store.view();
    const entity = await measure(db, store, () => view.A(1));
    assert.equal(entity.originQueries, 1, 'A is older than its maxAge: the origin');
    assert.equal(entity.selects, 1, 'A is older than its maxAge: the origin');
    assert.equal(entity.value.name, 'a1 renamed');
    const rel = await measure(db, store, () => entity.value.bs);
    assert.equal(rel.originQueries, 1, 'A.bs is older than its maxAge: the origin');
    assert.equal(rel.selects, 1, 'A.bs is older than its maxAge: the origin');
    assert.deepEqual(rel.value.map((b) => b.id), [1, 2, 3, 5]);
    const query = await measure(db, store, () => view.query('B', AGED));
    assert.equal(query.originQueries, 1, 'the query is older than its maxAge: the origin');
    assert.equal(query.selects, 1, 'the query is older than its maxAge: the origin');
    assert.deepEqual(query.value.map((b) => b.id), [5, 3, 2, 1]);

    const ageless = await measure(db, store, async () => {
      const all = await entity.value.allBs;
      const b4 = await view.B(4);
      return [all.map((b) => b.id), b4.name];
    });
    assert.equal(ageless.originQueries, 0, 'A.allBs and B have no maxAge: still the cache');
    assert.equal(ageless.selects, 0, 'A.allBs and B have no maxAge: still the cache');
    assert.deepEqual(ageless.value, [[1, 2, 3, 5], 'b4'], 'A.allBs from the cache, which now holds B 5 from the A.bs reload');
    await using noAge = store.view();
    const plainQuery = await measure(db, store, () => noAge.query('B', BS_DESC));
    assert.equal(plainQuery.originQueries, 0, 'the same query without maxAge: the cache');
    assert.equal(plainQuery.selects, 0, 'the same query without maxAge: the cache');

    // What went to the origin is fresh again.
    await using again = store.view();
    const refreshed = await measure(db, store, async () => {
      const a1 = await again.A(1);
      return [a1.name, (await a1.bs).length, (await again.query('B', AGED)).length];
    });
    assert.equal(refreshed.originQueries, 0);
    assert.equal(refreshed.selects, 0);
    assert.deepEqual(refreshed.value, ['a1 renamed', 4, 4]);
  });

  it('the belongsTo and preload paths honour maxAge too', async () => {
    await db.exec("UPDATE a SET name = 'a2 renamed' WHERE id = 2");
    await sleep(WAIT);
    await using store = await online(Mode.PREFER_CACHE);
    await using view = store.view();
    const b4 = await view.B(4);
    const parent = await measure(db, store, () => b4.a);
    assert.equal(parent.originQueries, 1, 'A 2 reached through B 4.a is older than maxAge');
    assert.equal(parent.selects, 1, 'A 2 reached through B 4.a is older than maxAge');
    assert.equal(parent.value.name, 'a2 renamed');
    for (const strategy of ['tree', 'levels'] as const) {
      if (strategy === 'levels') await sleep(WAIT);
      await using v = store.view();
      const [a1] = await v.A.many([1]);
      const step = await measure(db, store, () => v.preload([a1!], { bs: true, allBs: true }, { strategy }));
      assert.equal(step.originQueries, 1, `${strategy}: A.bs is older than maxAge and goes to the origin; A.allBs does not`);
      assert.equal(step.selects, 1, `${strategy}: A.bs is older than maxAge and goes to the origin; A.allBs does not`);
      assert.deepEqual((await a1!.bs).map((b) => b.id), [1, 2, 3]);
    }
  });

  it('OFFLINE ignores age', async () => {
    await sleep(WAIT);
    {
      await using store = await openStore(schema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await using view = store.view();
      const a1 = await view.A(1);
      assert.equal(a1.name, 'a1');
      assert.deepEqual((await a1.bs).map((b) => b.id), [1, 2, 3]);
      assert.deepEqual((await view.query('B', AGED)).map((b) => b.id), [3, 2, 1]);
    }
    await using store = await online(Mode.FRESHEN);
    await using view = store.view({ mode: Mode.OFFLINE });
    const step = await measure(db, store, async () => {
      const a1 = await view.A(1);
      return [(await a1.bs).length, (await view.query('B', AGED)).length];
    });
    assert.equal(step.originQueries, 0);
    assert.equal(step.selects, 0);
    assert.deepEqual(step.value, [3, 3]);
  });
});
