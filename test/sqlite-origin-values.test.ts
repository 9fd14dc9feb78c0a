// A SQLite origin's edge values read the same online and offline: zero dates, JSON and REAL -0, overflowing numbers, duplicate links.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineSchema, entity, IsOfflineError, manyToMany, Mode, openStore, OriginError, sqliteOrigin, type EntityOf, type SqliteDriver } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

const schema = defineSchema({
  V: entity({ table: 'v', key: 'id', columns: { id: 'integer', d: 'datetime?', j: 'json?', r: 'real?' }, relations: {} }),
  P: entity({ table: 'p', key: 'id', columns: { id: 'integer' }, relations: { ts: manyToMany('T', { through: 'p_t', sourceKey: 'p_id', targetKey: 't_id' }) } }),
  T: entity({ table: 't', key: 'id', columns: { id: 'integer' }, relations: {} }),
});
type S = typeof schema.entities;

const SEED = `
  CREATE TABLE v (id INTEGER PRIMARY KEY, d, j TEXT, r REAL);
  INSERT INTO v VALUES
    (1, '0000-00-00 00:00:00', '-0', -0.0),
    (2, '2024-02-30 10:00:00', '[-0.0, 1e-400, {"a": -0}]', 1.5),
    (3, '2024-02-29 23:59:59.999', '{"x": 1}', NULL),
    (4, '2024-06-01T12:00:00+05:00', 'null', 0),
    (5, 1717243200000, '"1e400"', NULL),
    (6, '2024-02-00', NULL, NULL),
    (10, 'soon', NULL, NULL),
    (11, NULL, '[1e400]', NULL);
  CREATE TABLE p (id INTEGER PRIMARY KEY);
  CREATE TABLE t (id INTEGER PRIMARY KEY);
  CREATE TABLE p_t (p_id INTEGER NOT NULL, t_id INTEGER NOT NULL);
  INSERT INTO p VALUES (1), (2);
  INSERT INTO t VALUES (7), (8);
  INSERT INTO p_t VALUES (1, 7), (1, 7), (1, 8), (2, 8), (2, 8);
`;

const EXPECTED: Record<number, { id: number; d: Date | null; j: unknown; r: number | null }> = {
  1: { id: 1, d: null, j: 0, r: 0 },
  2: { id: 2, d: null, j: [0, 0, { a: 0 }], r: 1.5 },
  3: { id: 3, d: new Date('2024-02-29T23:59:59.999Z'), j: { x: 1 }, r: null },
  4: { id: 4, d: new Date('2024-06-01T07:00:00Z'), j: null, r: 0 },
  5: { id: 5, d: new Date(1717243200000), j: '1e400', r: null },
  6: { id: 6, d: null, j: null, r: null },
};
const IDS = Object.keys(EXPECTED).map(Number);
const plain = (v: EntityOf<S, 'V'>) => ({ id: v.id, d: v.d, j: v.j, r: v.r });

describe('SQLite origin: edge values agree online and offline', () => {
  const tmp = tempDir();
  const origin = tmp.file('origin.db');
  before(async () => {
    const db = await openSqlite(origin);
    await db.exec(SEED);
    await db.close();
  });
  after(() => tmp.remove());

  for (const driver of DRIVERS) {
    it(`${driver} cache: dates the calendar lacks are null, -0 is 0, by entity load and custom query, online then offline`, async () => {
      const file = tmp.file(`values-${driver}.db`);
      const QUERY = { tag: 'all', sql: 'SELECT id, d, j, r FROM v WHERE id < 10 ORDER BY id', params: [] };
      {
        await using store = await openStore(schema, { origin: sqliteOrigin(origin), cache: testCache(file, { driver }), mode: Mode.FRESHEN });
        await using view = store.view();
        assert.deepStrictEqual((await view.V.many(IDS)).map((v) => plain(v as EntityOf<S, 'V'>)), IDS.map((id) => EXPECTED[id]));
        assert.deepStrictEqual((await view.query('V', QUERY)).map(plain), IDS.map((id) => EXPECTED[id]));
        // A computed -0.0 (a stored one is already 0 in SQLite) reads as 0 too.
        const [neg] = await view.query('V', { tag: 'neg', sql: 'SELECT id, d, j, -0.0 AS r FROM v WHERE id = 1', params: [] });
        assert.ok(Object.is(neg?.r, 0));
      }
      await using offline = await openStore(schema, { origin: null, cache: testCache(file, { driver }), mode: Mode.OFFLINE });
      await using view = offline.view();
      assert.deepStrictEqual(await Promise.all(IDS.map(async (id) => plain(await view.V(id)))), IDS.map((id) => EXPECTED[id]));
      assert.deepStrictEqual((await view.query('V', QUERY)).map(plain), IDS.map((id) => EXPECTED[id]));
    });

    it(`${driver} cache: text that is no date, JSON beyond the double range and an infinite REAL are TypeErrors naming the column; nothing written`, async () => {
      const file = tmp.file(`bad-${driver}.db`);
      {
        await using store = await openStore(schema, { origin: sqliteOrigin(origin), cache: testCache(file, { driver }), mode: Mode.FRESHEN });
        await using view = store.view();
        const refused = (pattern: RegExp) => (e: unknown) => e instanceof TypeError && !(e instanceof OriginError) && pattern.test(e.message);
        await assert.rejects(view.V(10), refused(/V\.d: "soon" is not a date/));
        await assert.rejects(view.V(11), refused(/V\.j: a JSON number is beyond the range/));
        await assert.rejects(view.query('V', { tag: 'inf', sql: 'SELECT id, d, j, 1e999 AS r FROM v WHERE id = 3', params: [] }), refused(/V\.r: Infinity cannot be cached/));
      }
      const [rows] = await queryCacheFile<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM v');
      assert.equal(Number(rows?.n), 0);
      await using offline = await openStore(schema, { origin: null, cache: testCache(file, { driver }), mode: Mode.OFFLINE });
      await assert.rejects(offline.view().V(10), IsOfflineError);
    });

    it(`${driver} cache: a link twice in the join table gives its target once, online and offline`, async () => {
      const file = tmp.file(`links-${driver}.db`);
      const read = async (view: { P(id: number): Promise<EntityOf<S, 'P'>> }) => {
        const [p1, p2] = await Promise.all([view.P(1), view.P(2)]);
        return [(await p1.ts).map((t) => t.id), (await p2.ts).map((t) => t.id)];
      };
      {
        await using store = await openStore(schema, { origin: sqliteOrigin(origin), cache: testCache(file, { driver }), mode: Mode.FRESHEN });
        assert.deepEqual(await read(store.view()), [[7, 8], [8]]);
      }
      await using offline = await openStore(schema, { origin: null, cache: testCache(file, { driver }), mode: Mode.OFFLINE });
      assert.deepEqual(await read(offline.view()), [[7, 8], [8]]);
    });
  }
});
