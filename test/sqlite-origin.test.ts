import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineSchema, entity, Mode, openStore, sqliteOrigin, type EntityOf } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { abSchema } from './helpers/ab-schema.js';
import { openSqlite, type SqliteFile } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

/** AB_TABLES (test/helpers/ab-schema.ts) in SQLite's dialect: A 1 has B 1..3, A 2 has B 4, A 3 has none. */
const AB_TABLES_SQLITE = `
  CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE b (id INTEGER PRIMARY KEY, name TEXT NOT NULL, a_id INTEGER NOT NULL);
  CREATE INDEX b_a_id ON b (a_id);
  INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3');
  INSERT INTO b VALUES (1, 'b1', 1), (2, 'b2', 1), (3, 'b3', 1), (4, 'b4', 2);`;

type AB = typeof abSchema.entities;

/** The quick-start read: A 1..3 in one tick, then their bs and b in one tick each, then b.a. */
async function readAll(view: { A(key: number): Promise<EntityOf<AB, 'A'>> }) {
  const as = await Promise.all([1, 2, 3].map((k) => view.A(k)));
  const bs = await Promise.all(as.map((a) => a.bs));
  const parents = await Promise.all(bs.flat().map((b) => b.a));
  const flat = bs.flat();
  assert.equal(parents.length, flat.length);
  parents.forEach((p, i) => assert.equal(p.id, flat[i]?.a_id, 'b.a is the A of b.a_id'));
  parents.forEach((p, i) => assert.equal(p, as.find((a) => a.id === flat[i]?.a_id), 'b.a is the same object as the A looked up'));
  return { names: as.map((a) => a.name), bs: bs.map((g) => g.map((b) => [b.id, b.name])) };
}
const EXPECTED = { names: ['a1', 'a2', 'a3'], bs: [[[1, 'b1'], [2, 'b2'], [3, 'b3']], [[4, 'b4']], []] };

describe('sqliteOrigin', () => {
  const tmp = tempDir();
  const originFile = tmp.file('origin.db');
  let origin: SqliteFile;
  before(async () => {
    origin = await openSqlite(originFile);
    await origin.exec(AB_TABLES_SQLITE);
  });
  after(async () => {
    await origin.close();
    tmp.remove();
  });

  it('cold, warm and offline lookups; a 2-level load is 2 origin statements', async () => {
    const cacheFile = tmp.file('cache-cwo.db');
    {
      await using store = await openStore(abSchema, { origin: sqliteOrigin(originFile), cache: testCache(cacheFile), mode: Mode.PREFER_CACHE });
      {
        await using cold = store.view();
        const as = await Promise.all([1, 2, 3].map((k) => cold.A(k)));
        assert.equal(store.stats.originQueries, 1, 'level 1: one statement');
        const groups = await Promise.all(as.map((a) => a.bs));
        assert.equal(store.stats.originQueries, 2, 'level 2: one more statement');
        assert.deepEqual(groups.map((g) => g.map((b) => b.id)), [[1, 2, 3], [4], []]);
        // b.a is capped at PREFER_CACHE and every A is already in the view: no statement.
        await Promise.all(groups.flat().map((b) => b.a));
        assert.equal(store.stats.originQueries, 2);
        assert.deepEqual(await readAll(cold), EXPECTED);
        assert.equal(store.stats.originQueries, 2, 'asked again in the same view: nothing sent');
      }
      {
        await using warm = store.view();
        assert.deepEqual(await readAll(warm), EXPECTED);
        assert.equal(store.stats.originQueries, 2, 'warm view: everything from the cache');
        assert.equal((await (await warm.A(3)).b), null);
        assert.equal(store.stats.originQueries, 3, 'A.b (hasOne) had never been loaded: one statement');
      }
    }
    await using offline = await openStore(abSchema, { origin: null, cache: testCache(cacheFile), mode: Mode.OFFLINE });
    await using view = offline.view();
    assert.deepEqual(await readAll(view), EXPECTED);
    assert.equal(offline.stats.originQueries, 0);
    assert.equal(await (await view.A(3)).b, null, 'A 3 has no b, recorded complete');
    await assert.rejects(async () => await (await view.A(1)).b, { name: 'IsOfflineError' }, 'A 1.b was never loaded');
  });

  it('missing keys are NotFound, and the origin file is not written to', async () => {
    const cacheFile = tmp.file('cache-missing.db');
    await using store = await openStore(abSchema, { origin: sqliteOrigin(originFile), cache: testCache(cacheFile), mode: Mode.FRESHEN });
    await using view = store.view();
    await assert.rejects(view.A(99), { name: 'NotFoundError' });
    const b = await view.B(4);
    assert.equal((await b.a).name, 'a2');
    // The store's tables were created in the cache file, not the origin.
    assert.deepEqual(await origin.tables(), ['a', 'b']);
  });

  it('FRESHEN sees changes made to the origin file', async () => {
    const cacheFile = tmp.file('cache-freshen.db');
    await using store = await openStore(abSchema, { origin: sqliteOrigin(originFile), cache: testCache(cacheFile), mode: Mode.FRESHEN });
    {
      await using view = store.view();
      assert.deepEqual(await readAll(view), EXPECTED);
    }
    await origin.exec(`
      UPDATE a SET name = 'a1 renamed' WHERE id = 1;
      DELETE FROM b WHERE id = 2;
      INSERT INTO b VALUES (5, 'b5', 1), (6, 'b6', 3);
      UPDATE b SET name = 'b4 renamed' WHERE id = 4;`);
    try {
      const changed = { names: ['a1 renamed', 'a2', 'a3'], bs: [[[1, 'b1'], [3, 'b3'], [5, 'b5']], [[4, 'b4 renamed']], [[6, 'b6']]] };
      {
        await using view = store.view({ mode: Mode.PREFER_CACHE });
        assert.deepEqual(await readAll(view), EXPECTED, 'PREFER_CACHE still answers from the cache');
      }
      {
        await using view = store.view();
        assert.deepEqual(await readAll(view), changed);
      }
      // The cache took the changes: offline now gives the new data (once the answers' writes have committed).
      await store.flush();
      await using offline = await openStore(abSchema, { origin: null, cache: testCache(cacheFile), mode: Mode.OFFLINE });
      await using view = offline.view();
      assert.deepEqual(await readAll(view), changed);
      // B 2 left A 1's bs; the cache dropped it rather than serve a stale row (it may live on under another A).
      await assert.rejects(view.B(2), { name: 'IsOfflineError' });
    } finally {
      await origin.exec(`
        UPDATE a SET name = 'a1' WHERE id = 1;
        INSERT INTO b VALUES (2, 'b2', 1);
        DELETE FROM b WHERE id IN (5, 6);
        UPDATE b SET name = 'b4' WHERE id = 4;`);
    }
  });

  it('column types read from a SQLite origin equal those read back offline', async () => {
    const file = tmp.file('typed-origin.db');
    const cacheFile = tmp.file('typed-cache.db');
    const o = await openSqlite(file);
    try {
      await o.exec(`
        CREATE TABLE t (id INTEGER PRIMARY KEY, bi INTEGER, d TEXT, bo INTEGER, dt TEXT, j TEXT, bl BLOB, r REAL, t TEXT);
        INSERT INTO t VALUES
          (1, 9007199254740993, '12.50', 1, '2024-02-29 12:34:56.789', '{"a":[1,null]}', x'00ff10', 0.1, 'é 😀'),
          (2, -9223372036854775808, '-0.0000000001', 0, '1970-01-01 00:00:00', '"s"', x'', -1.5, ''),
          (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`);
    } finally {
      await o.close();
    }
    const schema = defineSchema({
      T: entity({
        table: 't', key: 'id',
        columns: { id: 'integer', bi: 'bigint?', d: 'decimal?', bo: 'boolean?', dt: 'datetime?', j: 'json?', bl: 'blob?', r: 'real?', t: 'text?' },
        relations: {},
      }),
    });
    const expected = [
      { id: 1, bi: 9007199254740993n, d: '12.50', bo: true, dt: new Date('2024-02-29T12:34:56.789Z'), j: { a: [1, null] }, bl: Buffer.from([0, 255, 16]), r: 0.1, t: 'é 😀' },
      { id: 2, bi: -9223372036854775808n, d: '-0.0000000001', bo: false, dt: new Date('1970-01-01T00:00:00.000Z'), j: 's', bl: Buffer.alloc(0), r: -1.5, t: '' },
      { id: 3, bi: null, d: null, bo: null, dt: null, j: null, bl: null, r: null, t: null },
    ];
    const cols = ['id', 'bi', 'd', 'bo', 'dt', 'j', 'bl', 'r', 't'] as const;
    const read = async (mode: Mode, withOrigin: boolean) => {
      await using store = await openStore(schema, { origin: withOrigin ? sqliteOrigin(file) : null, cache: testCache(cacheFile), mode });
      await using view = store.view();
      const ts = await Promise.all([1, 2, 3].map((k) => view.T(k)));
      return ts.map((x) => Object.fromEntries(cols.map((c) => [c, x[c]])));
    };
    assert.deepStrictEqual(await read(Mode.FRESHEN, true), expected);
    assert.deepStrictEqual(await read(Mode.OFFLINE, false), expected);
  });
});
