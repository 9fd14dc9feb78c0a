import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { belongsTo, defineSchema, entity, hasMany, Mode, mysqlOrigin, openStore, type EntityOf, type View } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

const schema = defineSchema({
  F: entity({
    table: 'f', key: 'id',
    columns: {
      id: 'integer',
      i: 'integer?', bi: 'bigint?', r: 'real?', d: 'decimal?', t: 'text?', v: 'text?',
      bo: 'boolean?', bo2: 'boolean?', dt: 'datetime?', j: 'json?', bl: 'blob?',
    },
    relations: {},
  }),
  P: entity({
    table: 'p', key: 'id',
    columns: { id: 'bigint', name: 'text' },
    relations: { cs: hasMany('C', 'p_id') },
  }),
  C: entity({
    table: 'c', key: 'id',
    columns: { id: 'bigint', p_id: 'bigint', name: 'text' },
    relations: { p: belongsTo('P', 'p_id') },
  }),
});
type S = typeof schema.entities;
const F_COLUMNS = ['id', 'i', 'bi', 'r', 'd', 't', 'v', 'bo', 'bo2', 'dt', 'j', 'bl'] as const;

const TABLES = [
  `CREATE TABLE f (
     id INT PRIMARY KEY, i INT NULL, bi BIGINT NULL, r DOUBLE NULL, d DECIMAL(30,10) NULL, t TEXT NULL, v VARCHAR(100) NULL,
     bo TINYINT(1) NULL, bo2 BOOLEAN NULL, dt DATETIME(3) NULL, j JSON NULL, bl BLOB NULL
   ) DEFAULT CHARSET = utf8mb4 COLLATE utf8mb4_unicode_ci`,
  `INSERT INTO f VALUES
     (1, 2147483647, 9007199254740993, 3.141592653589793, '12345678901234567890.0123456789', 'héllo 🎉 wörld', 'emoji 😀 ok',
      1, 0, '2024-02-29 12:34:56.789', '{"a": 1, "b": [1, 2, {"c": null}], "s": "x😀"}', X'00FF0110FF00'),
     (2, -2147483648, -9223372036854775808, -0.5, '-0.0000000001', '', 'quote '' and \\\\ backslash',
      0, 1, '1000-01-01 00:00:00', '[1, "two", null, true, 2.5]', X'00'),
     (3, 0, 9223372036854775807, 1e308, '0.0000000000', 'multi\\nline\\ttab', 'x',
      1, 1, '9999-12-31 23:59:59', '"a JSON string"', X'FF'),
     (4, 42, 0, 2.5e-300, '99999999999999999999.9999999999', 'nul\\0byte', 'b', 0, 0, '1970-01-01 00:00:00.001', '42', X''),
     (5, 7, -1, 0, '1.5000000000', 'n', 'n', NULL, NULL, NULL, 'null', NULL),
     (7, 1, 1, 1, '1.0000000000', REPEAT('é', 20000), '', 1, 0, '2000-01-01 00:00:00.5', '{}', UNHEX(REPEAT('00FF7F80', 16000))),
     (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  'CREATE TABLE p (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL)',
  'CREATE TABLE c (id BIGINT PRIMARY KEY, p_id BIGINT NOT NULL, name VARCHAR(50) NOT NULL, KEY (p_id))',
  "INSERT INTO p VALUES (9007199254740993, 'p-2^53+1'), (9007199254740992, 'p-2^53'), (9223372036854775807, 'p-max'), (-9223372036854775808, 'p-min')",
  `INSERT INTO c VALUES (9007199254740995, 9007199254740993, 'c1'), (9007199254740997, 9007199254740993, 'c2'),
     (9007199254740994, 9007199254740992, 'c0'), (-9223372036854775807, -9223372036854775808, 'cmin')`,
];

const EXPECTED: Record<number, Record<(typeof F_COLUMNS)[number], unknown>> = {
  1: {
    id: 1, i: 2147483647, bi: 9007199254740993n, r: 3.141592653589793, d: '12345678901234567890.0123456789',
    t: 'héllo 🎉 wörld', v: 'emoji 😀 ok', bo: true, bo2: false, dt: new Date('2024-02-29T12:34:56.789Z'),
    j: { a: 1, b: [1, 2, { c: null }], s: 'x😀' }, bl: Buffer.from([0x00, 0xff, 0x01, 0x10, 0xff, 0x00]),
  },
  2: {
    id: 2, i: -2147483648, bi: -9223372036854775808n, r: -0.5, d: '-0.0000000001', t: '', v: "quote ' and \\ backslash",
    bo: false, bo2: true, dt: new Date('1000-01-01T00:00:00.000Z'), j: [1, 'two', null, true, 2.5], bl: Buffer.from([0x00]),
  },
  3: {
    id: 3, i: 0, bi: 9223372036854775807n, r: 1e308, d: '0.0000000000', t: 'multi\nline\ttab', v: 'x',
    bo: true, bo2: true, dt: new Date('9999-12-31T23:59:59.000Z'), j: 'a JSON string', bl: Buffer.from([0xff]),
  },
  4: {
    id: 4, i: 42, bi: 0n, r: 2.5e-300, d: '99999999999999999999.9999999999', t: 'nul\0byte', v: 'b',
    bo: false, bo2: false, dt: new Date('1970-01-01T00:00:00.001Z'), j: 42, bl: Buffer.alloc(0),
  },
  5: { id: 5, i: 7, bi: -1n, r: 0, d: '1.5000000000', t: 'n', v: 'n', bo: null, bo2: null, dt: null, j: null, bl: null },
  7: {
    id: 7, i: 1, bi: 1n, r: 1, d: '1.0000000000', t: 'é'.repeat(20000), v: '', bo: true, bo2: false,
    dt: new Date('2000-01-01T00:00:00.500Z'), j: {}, bl: Buffer.from('00FF7F80'.repeat(16000), 'hex'),
  },
  6: { id: 6, i: null, bi: null, r: null, d: null, t: null, v: null, bo: null, bo2: null, dt: null, j: null, bl: null },
};
const IDS = Object.keys(EXPECTED).map(Number);

function plain(f: EntityOf<S, 'F'>): Record<string, unknown> {
  return Object.fromEntries(F_COLUMNS.map((c) => [c, f[c]]));
}

/** Checks the JavaScript types of one row's values, beyond what deepStrictEqual says. */
function checkTypes(row: Record<string, unknown>): void {
  const at = `row ${String(row.id)}`;
  if (row.i !== null) assert.equal(typeof row.i, 'number', `${at}.i`);
  if (row.bi !== null) assert.equal(typeof row.bi, 'bigint', `${at}.bi`);
  if (row.r !== null) assert.equal(typeof row.r, 'number', `${at}.r`);
  if (row.d !== null) assert.equal(typeof row.d, 'string', `${at}.d`);
  if (row.t !== null) assert.equal(typeof row.t, 'string', `${at}.t`);
  if (row.bo !== null) assert.equal(typeof row.bo, 'boolean', `${at}.bo`);
  if (row.bo2 !== null) assert.equal(typeof row.bo2, 'boolean', `${at}.bo2`);
  if (row.dt !== null) assert.ok(row.dt instanceof Date, `${at}.dt is a Date`);
  if (row.bl !== null) assert.ok(Buffer.isBuffer(row.bl), `${at}.bl is a Buffer`);
}

describe('type fidelity (MariaDB → origin read → SQLite cache → offline read)', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('every column type reads back exact from the origin and then from the cache offline', async () => {
    const file = tmp.file('fidelity.db');
    let online: Record<string, unknown>[];
    {
      await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      online = (await Promise.all(IDS.map((id) => view.F(id)))).map(plain);
      assert.equal(store.stats.originQueries, 1);
    }
    for (const row of online) {
      assert.deepStrictEqual(row, EXPECTED[row.id as number], `online row ${String(row.id)}`);
      checkTypes(row);
    }

    await using offline = await openStore(schema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    const cached = (await Promise.all(IDS.map((id) => view.F(id)))).map(plain);
    for (const row of cached) {
      assert.deepStrictEqual(row, EXPECTED[row.id as number], `offline row ${String(row.id)}`);
      checkTypes(row);
    }
    assert.deepStrictEqual(cached, online);
  });

  it('values read from the cache by PREFER_CACHE in the same store equal the origin values', async () => {
    const file = tmp.file('fidelity-prefer.db');
    await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
    const first = store.view();
    const online = (await Promise.all(IDS.map((id) => first.F(id)))).map(plain);
    first.close();
    const second = store.view({ mode: Mode.PREFER_CACHE });
    const before = store.stats.originQueries;
    const cached = (await Promise.all(IDS.map((id) => second.F(id)))).map(plain);
    assert.equal(store.stats.originQueries, before, 'PREFER_CACHE answered from the cache');
    assert.deepStrictEqual(cached, online);
  });

  it('a BIGINT key beyond 2^53 with a hasMany over a BIGINT foreign key works online and offline', async () => {
    const file = tmp.file('bigkey.db');
    const check = async (view: View<S>, where: string) => {
      const p = await view.P(9007199254740993n);
      assert.equal(p.id, 9007199254740993n, where);
      assert.equal(typeof p.id, 'bigint', where);
      assert.equal(p.name, 'p-2^53+1', where);
      // 2^53 is a different row, not confused with 2^53+1 by a float round trip.
      const p0 = await view.P(9007199254740992n);
      assert.equal(p0.name, 'p-2^53', where);
      assert.notEqual(p0, p);
      const cs = await p.cs;
      assert.deepStrictEqual(cs.map((c) => c.id), [9007199254740995n, 9007199254740997n], where);
      assert.deepStrictEqual(cs.map((c) => c.p_id), [9007199254740993n, 9007199254740993n], where);
      assert.equal(await cs[0]?.p, p, `${where}: belongsTo gives the same object`);
      assert.deepStrictEqual((await p0.cs).map((c) => c.name), ['c0'], where);
      const max = await view.P(9223372036854775807n);
      assert.equal(max.name, 'p-max', where);
      assert.deepStrictEqual(await max.cs, [], where);
      const min = await view.P(-9223372036854775808n);
      assert.equal(min.id, -9223372036854775808n, where);
      const [cmin] = await min.cs;
      assert.equal(cmin?.id, -9223372036854775807n, where);
      const c2 = await view.C(9007199254740997n);
      assert.equal(c2, cs[1], `${where}: C by key is the object the relation gave`);
    };
    {
      await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      await check(view, 'online');
    }
    await using offline = await openStore(schema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    await check(view, 'offline');
  });
});
