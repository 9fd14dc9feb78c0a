import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { defineSchema, entity, hasMany, IsOfflineError, Mode, NotFoundError } from 'asyncdbview';
import { everLoadedKeys, queryCacheFile } from './helpers/cache-file.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { fileStores } from './helpers/file-stores.js';

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
    relations: { cs: hasMany('C', 'b_id') },
  }),
  C: entity({
    table: 'c', key: 'id',
    columns: { id: 'integer', name: 'text', b_id: 'integer' },
    relations: {},
  }),
});

/**
 * A 1 has B 1 (C 1, 2, 5) and B 2 (C 3); A 2 has B 3 (C 4). `flags` is never in the schema, so never cached:
 * C 5 is hidden by it.
 */
const TABLES = [
  'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, a_id INT NOT NULL, KEY (a_id))',
  'CREATE TABLE c (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, b_id INT NOT NULL, KEY (b_id))',
  'CREATE TABLE flags (c_id INT PRIMARY KEY, hidden TINYINT NOT NULL)',
  "INSERT INTO a VALUES (1, 'a1'), (2, 'a2')",
  "INSERT INTO b VALUES (1, 'b1', 1), (2, 'b2', 1), (3, 'b3', 2)",
  "INSERT INTO c VALUES (1, 'c1', 1), (2, 'c2', 1), (3, 'c3', 2), (4, 'c4', 3), (5, 'c5', 1)",
  'INSERT INTO flags VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 1)',
];

/**
 * The visible Cs of an A, newest name first: backticks, IF(), `LIMIT ?, ?` and a join through a table the
 * cache never holds — SQL only the origin can answer.
 */
const CS_OF_A =
  'SELECT `c`.* FROM `c` JOIN `b` ON `c`.`b_id` = `b`.`id` JOIN `flags` `f` ON `f`.`c_id` = `c`.`id` ' +
  'WHERE `b`.`a_id` = ? AND IF(`f`.`hidden` = 0, 1, 0) = 1 ORDER BY `c`.`name` DESC LIMIT ?, ?';
const spec = (aId: number) => ({ tag: 'A.cs', params: [aId, 0, 10], sql: CS_OF_A });

describe('custom queries', { skip }, () => {
  // Several tests change the origin: each gets its own database and cache file.
  let db: TestDb;
  let file: string;
  let n = 0;
  const tmp = tempDir();
  beforeEach(async () => {
    db = await createTestDb(...TABLES);
    file = tmp.file(`queries-${++n}.db`);
  });
  afterEach(async () => {
    await db.drop();
  });
  after(() => tmp.remove());

  const { online, offline } = fileStores(schema, () => ({ url: db.url, file }));

  it('runs on the origin, merges its rows into the cache and records the answer complete', async () => {
    await using store = await online();
    await using view = store.view();
    const cacheSql: string[] = [];
    store.on('query', (e) => {
      if (e.target === 'cache') cacheSql.push(e.sql);
    });
    const step = await measure(db, store, () => view.query('C', spec(1)));
    assert.equal(step.originQueries, 1);
    assert.equal(step.selects, 1);
    assert.deepEqual(step.value.map((c) => c.id), [3, 2, 1], 'origin order: name DESC, C 5 hidden by flags');
    assert.deepEqual(step.value.map((c) => c.name), ['c3', 'c2', 'c1']);
    assert.equal(step.value[0]?.b_id, 2);

    const cached = await queryCacheFile<{ id: number }>(file, 'SELECT id FROM c ORDER BY id');
    assert.deepEqual(cached.map((r) => r.id), [1, 2, 3], 'the rows are in the cache table');
    assert.deepEqual(await everLoadedKeys(file, 'q:A.cs'), [JSON.stringify([1, 0, 10])], 'recorded complete under (tag, params)');
    assert.deepEqual(await queryCacheFile(file, "SELECT name FROM sqlite_master WHERE name = 'flags'"), [], 'flags is never cached');

    // The rows and the completeness mark are written in one transaction.
    // (The fetch claim has a transaction of its own before it: find the one that writes the mark.)
    const transactions: string[][] = [];
    cacheSql.forEach((sql, i) => {
      if (!/^BEGIN/i.test(sql)) return;
      const end = cacheSql.findIndex((s, j) => j > i && /^COMMIT/i.test(s));
      if (end > i) transactions.push(cacheSql.slice(i + 1, end));
    });
    const inside = transactions.find((t) => t.some((sql) => /INSERT INTO ever_loaded/.test(sql))) ?? [];
    assert.ok(inside.length > 0, `a write transaction writes the mark: ${cacheSql.join(' | ')}`);
    assert.ok(inside.some((sql) => /INSERT INTO "c"/.test(sql)), 'the rows, inside it');
    assert.ok(inside.some((sql) => /INSERT INTO ever_loaded/.test(sql)), 'the mark, inside it');
    assert.equal(transactions.filter((t) => t.some((sql) => /INSERT INTO "c"|INSERT INTO ever_loaded/.test(sql))).length, 1, 'one write transaction for the rows and the mark');
  });

  it('offline and in PREFER_CACHE it answers from the cache: the same rows in the same order', async () => {
    {
      await using store = await online();
      await using view = store.view();
      assert.deepEqual((await view.query('C', spec(1))).map((c) => c.id), [3, 2, 1]);
      assert.deepEqual((await view.query('C', spec(2))).map((c) => c.id), [4]);
    }
    {
      await using store = await offline();
      await using view = store.view();
      const cs = await view.query('C', spec(1));
      assert.deepEqual(cs.map((c) => c.id), [3, 2, 1]);
      assert.deepEqual(cs.map((c) => [c.name, c.b_id]), [['c3', 2], ['c2', 1], ['c1', 1]]);
      assert.deepEqual((await view.query('C', spec(2))).map((c) => c.id), [4]);
      // The rows are the view's entities, and also plain lookups of them work offline.
      assert.equal(await view.C(2), cs[1]);
      assert.equal(store.stats.originQueries, 0);
    }
    {
      await using store = await online(Mode.PREFER_CACHE);
      await using view = store.view();
      const step = await measure(db, store, () => view.query('C', spec(1)));
      assert.deepEqual(step.value.map((c) => c.id), [3, 2, 1]);
      assert.equal(step.originQueries, 0);
      assert.equal(step.selects, 0, 'PREFER_CACHE: recorded complete, no origin statement');
      assert.ok(step.cacheQueries >= 1);
    }
  });

  it('an empty answer is recorded too: offline it is [] and not an error', async () => {
    {
      await using store = await online();
      await using view = store.view();
      assert.deepEqual(await view.query('C', spec(42)), []);
    }
    await using store = await offline();
    await using view = store.view();
    assert.deepEqual(await view.query('C', spec(42)), []);
  });

  it('within a view the same (tag, params) is asked once; other params are another query', async () => {
    await using store = await online();
    await using view = store.view();
    const first = await measure(db, store, async () => {
      const [x, y] = await Promise.all([view.query('C', spec(1)), view.query('C', spec(1))]);
      const z = await view.query('C', spec(1));
      return [x, y, z];
    });
    assert.equal(first.originQueries, 1);
    assert.equal(first.selects, 1);
    const [x, y, z] = first.value;
    assert.equal(x, y);
    assert.equal(x, z);
    const other = await measure(db, store, () => view.query('C', spec(2)));
    assert.equal(other.originQueries, 1);
    assert.equal(other.selects, 1);
    assert.deepEqual(other.value.map((c) => c.id), [4]);
    const again = await measure(db, store, () => Promise.all([view.query('C', spec(1)), view.query('C', spec(2))]));
    assert.equal(again.originQueries, 0);
    assert.equal(again.selects, 0);
  });

  it('returns the view\'s identity-mapped entities', async () => {
    await using store = await online();
    await using view = store.view();
    const c2 = await view.C(2);
    const b2 = await view.B(2);
    const [c3] = await b2.cs;
    const step = await measure(db, store, () => view.query('C', spec(1)));
    assert.equal(step.originQueries, 1);
    assert.equal(step.selects, 1);
    const [q3, q2, q1] = step.value;
    assert.equal(q2, c2, 'an object the view already had');
    assert.equal(q3, c3, 'an object the view had from a relation');
    const lookup = await measure(db, store, () => view.C(1));
    assert.equal(lookup.value, q1, 'a later lookup gives the query\'s object');
    assert.equal(lookup.originQueries, 0, 'and sends nothing: the row came from the origin in this view');
    assert.equal(lookup.selects, 0, 'and sends nothing: the row came from the origin in this view');
  });

  it('FRESHEN runs it again once per view and replaces the recorded answer (rows and order)', async () => {
    {
      await using store = await online();
      await using view = store.view();
      assert.deepEqual((await view.query('C', spec(1))).map((c) => c.id), [3, 2, 1]);
    }
    await db.exec("UPDATE c SET name = 'c9' WHERE id = 1", 'UPDATE flags SET hidden = 0 WHERE c_id = 5', 'UPDATE flags SET hidden = 1 WHERE c_id = 2');
    {
      await using store = await online(Mode.PREFER_CACHE);
      await using view = store.view();
      assert.deepEqual((await view.query('C', spec(1))).map((c) => c.id), [3, 2, 1], 'PREFER_CACHE: still the recorded answer');
    }
    {
      await using store = await online();
      await using view = store.view();
      const step = await measure(db, store, async () => [await view.query('C', spec(1)), await view.query('C', spec(1))]);
      assert.equal(step.originQueries, 1, 'once per view');
      assert.equal(step.selects, 1, 'once per view');
      assert.deepEqual(step.value[0]?.map((c) => c.id), [1, 5, 3]);
      assert.deepEqual(step.value[0]?.map((c) => c.name), ['c9', 'c5', 'c3']);
    }
    await using store = await offline();
    await using view = store.view();
    const cs = await view.query('C', spec(1));
    assert.deepEqual(cs.map((c) => c.id), [1, 5, 3], 'offline: the new answer in the new order');
    assert.deepEqual(cs.map((c) => c.name), ['c9', 'c5', 'c3']);
  });

  it('rows that are not full rows are a TypeError naming the missing columns, and nothing is recorded', async () => {
    {
      await using store = await online();
      await using view = store.view();
      await assert.rejects(
        view.query('C', { tag: 'partial', sql: 'SELECT id FROM c ORDER BY id' }),
        (error: unknown) => error instanceof TypeError && /name/.test(error.message) && /b_id/.test(error.message),
      );
    }
    await using store = await offline();
    await using view = store.view();
    await assert.rejects(view.query('C', { tag: 'partial', sql: 'SELECT id FROM c ORDER BY id' }), IsOfflineError);
  });

  it('params of a bad type are a TypeError before anything is sent', async () => {
    await using store = await online();
    await using view = store.view();
    const step = await measure(db, store, async () => {
      await assert.rejects(view.query('C', { ...spec(1), params: [{ id: 1 }, 0, 10] }), (e: unknown) => e instanceof TypeError && /params\[0\]/.test(e.message));
      await assert.rejects(view.query('C', { ...spec(1), params: [1, [0], 10] }), TypeError);
      await assert.rejects(view.query('C', { ...spec(1), params: [1, 0, Number.NaN] }), TypeError);
      await assert.rejects(view.query('C', { ...spec(1), params: 1 as unknown as unknown[] }), TypeError);
    });
    assert.equal(step.originQueries, 0);
    assert.equal(step.selects, 0);
  });

  it('offline, a (tag, params) never asked is IsOfflineError, or the offlineFallback', async () => {
    {
      await using store = await online();
      await using view = store.view();
      await view.query('C', spec(1));
    }
    await using store = await offline();
    await using view = store.view();
    await assert.rejects(view.query('C', spec(2)), IsOfflineError, 'other params were never asked');
    await assert.rejects(view.query('C', { ...spec(1), tag: 'other' }), IsOfflineError, 'another tag was never asked');
    const fallback = await view.query('C', { ...spec(2), offlineFallback: [] });
    assert.deepEqual(fallback, []);
    assert.deepEqual((await view.query('C', { ...spec(1), offlineFallback: [] })).map((c) => c.id), [3, 2, 1], 'the fallback only when not in the cache');
  });

  it('an OFFLINE view of a store with an origin does not send it; spec.mode caps the view', async () => {
    await using store = await online();
    await using view = store.view({ mode: Mode.OFFLINE });
    const step = await measure(db, store, () => assert.rejects(view.query('C', spec(1)), IsOfflineError));
    assert.equal(step.originQueries, 0);
    assert.equal(step.selects, 0);
    await using fresh = store.view();
    const capped = await measure(db, store, () => assert.rejects(fresh.query('C', { ...spec(1), mode: Mode.OFFLINE }), IsOfflineError));
    assert.equal(capped.originQueries, 0);
    assert.equal(capped.selects, 0);
  });

  it('a row of the answer removed from the cache by a FRESHEN relation refresh makes the answer not complete', async () => {
    {
      await using store = await online();
      await using view = store.view();
      assert.deepEqual((await view.query('C', spec(1))).map((c) => c.id), [3, 2, 1]);
    }
    await db.exec('DELETE FROM c WHERE id = 3');
    {
      await using store = await online();
      await using view = store.view();
      const b2 = await view.B(2);
      assert.deepEqual(await b2.cs, [], 'C 3 is gone at the origin');
    }
    assert.deepEqual(await queryCacheFile(file, 'SELECT id FROM c WHERE id = 3'), [], 'and from the cache');
    {
      await using store = await offline();
      await using view = store.view();
      await assert.rejects(view.query('C', spec(1)), IsOfflineError, 'not a silently shorter answer');
    }
    await using store = await online(Mode.PREFER_CACHE);
    await using view = store.view();
    const step = await measure(db, store, () => view.query('C', spec(1)));
    assert.equal(step.originQueries, 1, 'PREFER_CACHE asks the origin again');
    assert.equal(step.selects, 1, 'PREFER_CACHE asks the origin again');
    assert.deepEqual(step.value.map((c) => c.id), [2, 1]);
  });

  it('a row of the answer found absent by a FRESHEN lookup makes the answer not complete', async () => {
    {
      await using store = await online();
      await using view = store.view();
      assert.deepEqual((await view.query('C', spec(1))).map((c) => c.id), [3, 2, 1]);
    }
    await db.exec('DELETE FROM c WHERE id = 2');
    {
      await using store = await online();
      await using view = store.view();
      await assert.rejects(view.C(2), NotFoundError);
    }
    await using store = await offline();
    await using view = store.view();
    await assert.rejects(view.C(2), NotFoundError, 'recorded absent');
    await assert.rejects(view.query('C', spec(1)), IsOfflineError, 'not an answer still holding C 2, nor a shorter one');
  });
});
