import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  belongsTo, defineSchema, entity, hasMany, hasOne, IsOfflineError, Mode, mysqlOrigin, NotFoundError, openStore,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { everLoadedKeys } from './helpers/cache-file.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** The quick-start schema with a nullable foreign key. */
const nullableSchema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id'), b: hasOne('B', 'a_id') },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer?' },
    relations: { a: belongsTo('A', 'a_id') },
  }),
});

/** A 1 has B 1; B 2 has no parent (NULL); B 3 points at A 42, which does not exist; A 2 and A 3 have no B. */
const TABLES = [
  'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, a_id INT NULL, KEY (a_id))',
  "INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')",
  "INSERT INTO b VALUES (1, 'b1', 1), (2, 'b2', NULL), (3, 'b3', 42)",
];

describe('missing rows', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  let n = 0;
  const cacheFile = () => tmp.file(`missing-${++n}.db`);
  before(async () => {
    db = await createTestDb(...TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('view.B(absent) rejects NotFoundError online, naming the entity and the key', async () => {
    await using store = await openStore(nullableSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    await using view = store.view();
    const step = await measure(db, store, () => view.B(99).then(() => undefined, (e: unknown) => e));
    assert.equal(step.selects, 1);
    const error = step.value;
    assert.ok(error instanceof NotFoundError, `expected NotFoundError, got ${String(error)}`);
    assert.equal(error.name, 'NotFoundError');
    assert.equal(error.entity, 'B');
    assert.deepEqual(error.keys, [99]);
    assert.match(error.message, /\bB\b/);
    assert.match(error.message, /\b99\b/);
    // Absence is an answer: asking again in the view sends nothing.
    const again = await measure(db, store, () => assert.rejects(view.B(99), NotFoundError));
    assert.equal(again.selects, 0);
    assert.equal(again.originQueries + again.cacheQueries, 0);
  });

  it('in one batch, present and absent keys each get their own answer from one statement', async () => {
    await using store = await openStore(nullableSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    await using view = store.view();
    const step = await measure(db, store, () => Promise.allSettled([view.B(1), view.B(99), view.B(2), view.B(98)]));
    assert.equal(step.selects, 1);
    const [b1, b99, b2, b98] = step.value;
    assert.ok(b1.status === 'fulfilled' && b1.value.name === 'b1');
    assert.ok(b2.status === 'fulfilled' && b2.value.name === 'b2');
    assert.ok(b99.status === 'rejected' && b99.reason instanceof NotFoundError);
    assert.deepEqual((b99.reason as NotFoundError).keys, [99]);
    assert.ok(b98.status === 'rejected' && b98.reason instanceof NotFoundError);
    assert.deepEqual((b98.reason as NotFoundError).keys, [98]);
  });

  it('a bad key fails its own lookup only, before any statement', async () => {
    await using store = await openStore(nullableSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    await using view = store.view();
    const step = await measure(db, store, () => Promise.allSettled([view.B(1), view.B('1' as unknown as number)]));
    assert.equal(step.selects, 1);
    const [good, bad] = step.value;
    assert.ok(good.status === 'fulfilled' && good.value.id === 1);
    assert.ok(bad.status === 'rejected' && bad.reason instanceof TypeError && /\bB\b/.test(bad.reason.message), String(bad.status === 'rejected' && bad.reason));
  });

  it('offline: NotFoundError if the absence was recorded, IsOfflineError if the key was never asked', async () => {
    const file = cacheFile();
    {
      await using store = await openStore(nullableSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      await Promise.allSettled([view.B(1), view.B(99), view.A(77)]);
    }
    assert.deepEqual(await everLoadedKeys(file, 'B'), [1, 99]);
    assert.deepEqual(await everLoadedKeys(file, 'A'), [77]);
    await using store = await openStore(nullableSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    await assert.rejects(view.B(99), (e: unknown) => e instanceof NotFoundError && e.entity === 'B' && e.keys[0] === 99);
    await assert.rejects(view.A(77), (e: unknown) => e instanceof NotFoundError && e.entity === 'A' && e.keys[0] === 77);
    await assert.rejects(view.B(98), IsOfflineError);
    await assert.rejects(view.A(1), IsOfflineError, 'A 1 was never asked');
    assert.equal((await view.B(1)).name, 'b1');
  });

  it('PREFER_CACHE trusts a recorded absence; FRESHEN asks again and finds a row inserted since', async () => {
    const file = cacheFile();
    await using store = await openStore(nullableSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.PREFER_CACHE });
    {
      await using view = store.view();
      await assert.rejects(view.B(50), NotFoundError);
    }
    await db.exec("INSERT INTO b VALUES (50, 'b50', 2)");
    try {
      {
        await using view = store.view();
        const step = await measure(db, store, () => assert.rejects(view.B(50), NotFoundError));
        assert.equal(step.selects, 0, 'PREFER_CACHE: the recorded absence answers');
      }
      {
        await using view = store.view({ mode: Mode.FRESHEN });
        const step = await measure(db, store, () => view.B(50));
        assert.equal(step.selects, 1);
        assert.equal(step.value.name, 'b50');
      }
      await using off = await openStore(nullableSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      assert.equal((await off.view().B(50)).a_id, 2, 'offline: the absence mark was replaced by the row');
    } finally {
      await db.exec('DELETE FROM b WHERE id = 50');
    }
  });

  it('a belongsTo whose foreign key is NULL is null, with no statement at all', async () => {
    await using store = await openStore(nullableSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.FRESHEN });
    await using view = store.view();
    const b2 = await view.B(2);
    assert.equal(b2.a_id, null);
    const step = await measure(db, store, async () => b2.a);
    assert.equal(step.value, null);
    assert.equal(step.selects, 0);
    assert.equal(step.originQueries, 0);
    assert.equal(step.cacheQueries, 0);
  });

  it('a belongsTo whose foreign key is NULL is null offline too, not IsOfflineError', async () => {
    const file = cacheFile();
    {
      await using store = await openStore(nullableSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await store.view().B(2);
    }
    await using store = await openStore(nullableSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    const b2 = await view.B(2);
    const before = store.stats.cacheQueries;
    assert.equal(await b2.a, null);
    assert.equal(store.stats.cacheQueries, before);
  });

  it('a belongsTo whose parent row does not exist rejects NotFoundError naming the parent', async () => {
    const file = cacheFile();
    {
      await using store = await openStore(nullableSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      const b3 = await view.B(3);
      const step = await measure(db, store, () => b3.a.then(() => undefined, (e: unknown) => e));
      assert.equal(step.selects, 1);
      assert.ok(step.value instanceof NotFoundError, `expected NotFoundError, got ${String(step.value)}`);
      assert.equal(step.value.entity, 'A');
      assert.deepEqual(step.value.keys, [42]);
    }
    await using store = await openStore(nullableSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    await assert.rejects((await view.B(3)).a, NotFoundError);
  });

  it('relations with no rows: hasMany is an empty array, hasOne is null; a NULL foreign key belongs to no parent', async () => {
    const file = cacheFile();
    {
      await using store = await openStore(nullableSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      const as = await Promise.all([view.A(1), view.A(2), view.A(3)]);
      const level = await measure(db, store, () => Promise.all(as.map((a) => a.bs)));
      assert.equal(level.selects, 1);
      assert.deepEqual(level.value.map((bs) => bs.map((b) => b.id)), [[1], [], []]);
      assert.deepEqual(await Promise.all(as.map(async (a) => (await a.b)?.id ?? null)), [1, null, null]);
    }
    await using store = await openStore(nullableSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    const as = await Promise.all([view.A(1), view.A(2), view.A(3)]);
    assert.deepEqual((await Promise.all(as.map((a) => a.bs))).map((bs) => bs.map((b) => b.id)), [[1], [], []]);
    assert.deepEqual(await Promise.all(as.map(async (a) => (await a.b)?.id ?? null)), [1, null, null]);
  });
});
