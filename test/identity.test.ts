import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { belongsTo, defineSchema, entity, hasMany, hasOne, Mode, mysqlOrigin, openStore, type View } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** The quick-start tables, with relations ordered by a text column and by a nullable integer column. */
const orderedSchema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: {
      byKey: hasMany('B', 'a_id'),
      byName: hasMany('B', 'a_id', { orderBy: 'name' }),
      byRank: hasMany('B', 'a_id', { orderBy: 'rank' }),
      firstByName: hasOne('B', 'a_id', { orderBy: 'name' }),
      firstByRank: hasOne('B', 'a_id', { orderBy: 'rank' }),
    },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer', rank: 'integer?' },
    relations: { a: belongsTo('A', 'a_id') },
  }),
});

type OrderedView = View<(typeof orderedSchema)['entities']>;

/**
 * B rows inserted out of key order, with names whose order differs between MariaDB's case-insensitive
 * collation, SQLite's UTF-8 byte order and JavaScript's UTF-16 code-unit order, and ranks with ties and a NULL.
 */
const ORDERED_B: readonly [id: number, name: string, aId: number, rank: number | null][] = [
  [30, 'beta', 1, 2],
  [10, 'Alpha', 1, 2],
  [70, '\uff5e tilde', 1, 1],
  [20, 'alpha', 1, null],
  [40, 'Zulu', 1, 1],
  [60, '\u{1f600} grin', 1, 0],
  [50, '\u00e9clair', 1, 3],
  [5, 'b', 2, 1],
  [6, 'A', 2, 1],
];
const ORDERED_TABLES = [
  'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL) DEFAULT CHARSET=utf8mb4',
  'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, a_id INT NOT NULL, `rank` INT NULL, KEY (a_id)) DEFAULT CHARSET=utf8mb4',
  "INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')",
  `INSERT INTO b VALUES ${ORDERED_B.map(([id, name, aId, rank]) => `(${id}, '${name}', ${aId}, ${rank ?? 'NULL'})`).join(', ')}`,
];

/** The order the library documents: by the column (NULL first, text by code units), then by key. */
function expectedIds(aId: number, by: 'id' | 'name' | 'rank'): number[] {
  const rows = ORDERED_B.filter((r) => r[2] === aId);
  const value = (r: (typeof ORDERED_B)[number]) => (by === 'id' ? r[0] : by === 'name' ? r[1] : r[3]);
  return [...rows]
    .sort((x, y) => {
      const vx = value(x);
      const vy = value(y);
      if (vx !== vy) {
        if (vx === null) return -1;
        if (vy === null) return 1;
        return vx < vy ? -1 : 1;
      }
      return x[0] - y[0];
    })
    .map((r) => r[0]);
}

describe('identity', { skip }, () => {
  let db: TestDb;
  let ordered: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...AB_TABLES);
    ordered = await createTestDb(...ORDERED_TABLES);
  });
  after(async () => {
    await db.drop();
    await ordered.drop();
    tmp.remove();
  });

  it('one object per row however it is reached: view.B, a.bs, a.b and b.a', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('one.db')), mode: Mode.FRESHEN });
    await using view = store.view();
    const a = await view.A(1);
    const bs = await a.bs;
    assert.deepEqual(bs.map((b) => b.id), [1, 2, 3]);
    const step = await measure(db, store, () => view.B(1));
    assert.equal(step.value, bs[0], 'view.B(1) is the same object as a.bs[0]');
    assert.equal(step.selects, 0, 'view.B(1) after a.bs: no origin SELECT');
    assert.equal(step.originQueries, 0);
    assert.equal(step.cacheQueries, 0, 'view.B(1) after a.bs: no cache statement either');
    const first = await a.b;
    assert.ok(first !== null);
    assert.equal(first, bs[0], 'a.b is the same object as a.bs[0]');
    assert.equal(first, step.value);
    const back = await measure(db, store, async () => Promise.all(bs.map((b) => b.a)));
    for (const parent of back.value) assert.equal(parent, a, '(await b.a) === a');
    assert.equal(back.selects, 0);
    assert.equal(back.originQueries + back.cacheQueries, 0);
    // Awaiting a relation again gives the same array.
    assert.equal(await a.bs, bs);
    assert.equal(await view.A(1), a);
  });

  it('one object per row when the row is first reached by key, then through relations', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('bykey.db')), mode: Mode.FRESHEN });
    await using view = store.view();
    const [b2, b4] = await Promise.all([view.B(2), view.B(4)]);
    const [a1, a2] = await Promise.all([b2.a, b4.a]);
    assert.equal(a1.id, 1);
    assert.equal(a2.id, 2);
    assert.equal(await view.A(1), a1);
    const bs = await a1.bs;
    assert.equal(bs[1], b2);
    assert.equal((await a2.bs)[0], b4);
    assert.equal(await a2.b, b4);
  });

  it('one object per row from the cache too (OFFLINE store)', async () => {
    const file = tmp.file('cached-identity.db');
    {
      await using online = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = online.view();
      const a = await view.A(1);
      await Promise.all([a.bs, a.b]);
    }
    await using offline = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    const a = await view.A(1);
    const bs = await a.bs;
    const first = await a.b;
    assert.deepEqual(bs.map((b) => b.id), [1, 2, 3]);
    assert.equal(first, bs[0]);
    const before = offline.stats.cacheQueries;
    assert.equal(await view.B(2), bs[1]);
    assert.equal(offline.stats.cacheQueries, before, 'view.B(2) after a.bs is answered from the view');
    assert.equal(await bs[2]?.a, a);
    assert.equal(offline.stats.originQueries, 0);
  });

  it('different views give different objects for the same row', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('views.db')), mode: Mode.PREFER_CACHE });
    await using v1 = store.view();
    await using v2 = store.view();
    const a1 = await v1.A(1);
    const a2 = await v2.A(1);
    assert.notEqual(a1, a2);
    assert.deepEqual(JSON.stringify(a1), JSON.stringify(a2));
    assert.equal(a2.name, 'a1');
    const [bs1, bs2] = await Promise.all([a1.bs, a2.bs]);
    assert.notEqual(bs1, bs2);
    assert.notEqual(bs1[0], bs2[0]);
    assert.equal(await v1.B(1), bs1[0]);
    assert.equal(await v2.B(1), bs2[0]);
    assert.equal(await bs2[0]?.a, a2);
  });

  it('hasMany is ordered by the target key, whatever the insertion order', async () => {
    await using store = await openStore(orderedSchema, { origin: mysqlOrigin(ordered.url), cache: testCache(), mode: Mode.FRESHEN });
    await using view = store.view();
    const [a1, a2] = await Promise.all([view.A(1), view.A(2)]);
    const [bs1, bs2] = await Promise.all([a1.byKey, a2.byKey]);
    assert.deepEqual(bs1.map((b) => b.id), [10, 20, 30, 40, 50, 60, 70]);
    assert.deepEqual(bs2.map((b) => b.id), [5, 6]);
  });

  it('orderBy (text and nullable integer) gives the same order from the origin and from the cache', async () => {
    const file = tmp.file('ordered.db');
    const read = async (view: OrderedView) => {
      const out: Record<string, unknown> = {};
      const as = await Promise.all([view.A(1), view.A(2)]);
      for (const [i, a] of as.entries()) {
        const [byKey, byName, byRank, firstByName, firstByRank] = await Promise.all([a.byKey, a.byName, a.byRank, a.firstByName, a.firstByRank]);
        out[`${i + 1}`] = {
          byKey: byKey.map((b) => b.id),
          byName: byName.map((b) => b.id),
          byRank: byRank.map((b) => b.id),
          firstByName: firstByName?.id,
          firstByRank: firstByRank?.id,
        };
      }
      return out;
    };
    const expected = Object.fromEntries(
      [1, 2].map((k) => [
        `${k}`,
        {
          byKey: expectedIds(k, 'id'),
          byName: expectedIds(k, 'name'),
          byRank: expectedIds(k, 'rank'),
          firstByName: expectedIds(k, 'name')[0],
          firstByRank: expectedIds(k, 'rank')[0],
        },
      ]),
    );
    // Sanity: the fixture does order differently by each column.
    assert.deepEqual(expected['1'], {
      byKey: [10, 20, 30, 40, 50, 60, 70],
      byName: [10, 40, 20, 30, 50, 60, 70],
      byRank: [20, 60, 40, 70, 10, 30, 50],
      firstByName: 10,
      firstByRank: 20,
    });

    let fromOrigin: Record<string, unknown>;
    {
      await using online = await openStore(orderedSchema, { origin: mysqlOrigin(ordered.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = online.view();
      fromOrigin = await read(view);
      // From the same store's cache, through a PREFER_CACHE view: no origin statement.
      await using cached = online.view({ mode: Mode.PREFER_CACHE });
      const step = await measure(ordered, online, () => read(cached));
      assert.equal(step.selects, 0);
      assert.deepEqual(step.value, expected, 'order from the cache (PREFER_CACHE view)');
    }
    assert.deepEqual(fromOrigin, expected, 'order from the origin (FRESHEN)');

    await using offline = await openStore(orderedSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    assert.deepEqual(await read(view), expected, 'order from the cache (OFFLINE store)');
  });
});
