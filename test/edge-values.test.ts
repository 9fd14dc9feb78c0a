// Edge values read the same online and offline: zero dates, JSON -0 and 1e400, TIMESTAMPs under a non-UTC server, duplicate links.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import {
  defineSchema, entity, hasMany, IsOfflineError, manyToMany, Mode, mysqlOrigin, openStore, OriginError, type EntityOf, type SqliteDriver,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

const schema = defineSchema({
  EP: entity({ table: 'ep', key: 'id', columns: { id: 'integer' }, relations: { es: hasMany('E', 'ep_id') } }),
  E: entity({
    table: 'e', key: 'id',
    columns: {
      id: 'integer', ep_id: 'integer',
      dt: 'datetime?', da: 'datetime?', ts: 'datetime?', j: 'json?', b1: 'boolean?', t1: 'boolean?', de0: 'bigint?', iu: 'integer?',
      biu: 'bigint?', bi: 'integer?', yr: 'integer?', tm: 'text?', dtt: 'text?', en: 'text?', uu: 'text?', ir: 'real?', idc: 'decimal?', db: 'real?',
    },
    relations: {},
  }),
  Pst: entity({
    table: 'pst', key: 'id', columns: { id: 'integer' },
    relations: { tags: manyToMany('Tg', { through: 'pst_tg', sourceKey: 'pst_id', targetKey: 'tg_id' }) },
  }),
  Tg: entity({
    table: 'tg', key: 'id', columns: { id: 'integer', label: 'text' },
    relations: { psts: manyToMany('Pst', { through: 'pst_tg', sourceKey: 'tg_id', targetKey: 'pst_id' }) },
  }),
});
type S = typeof schema.entities;
const COLUMNS = ['id', 'ep_id', 'dt', 'da', 'ts', 'j', 'b1', 't1', 'de0', 'iu', 'biu', 'bi', 'yr', 'tm', 'dtt', 'en', 'uu', 'ir', 'idc', 'db'] as const;

const TABLES = [
  // Zero and invalid dates need a lax sql_mode; TIMESTAMPs are written as UTC instants.
  "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
  "SET SESSION time_zone = '+00:00'",
  'CREATE TABLE ep (id INT PRIMARY KEY)',
  `CREATE TABLE e (
     id INT PRIMARY KEY, ep_id INT NOT NULL DEFAULT 1,
     dt DATETIME(6) NULL, da DATE NULL, ts TIMESTAMP(3) NULL DEFAULT NULL, j JSON NULL, b1 BIT(1) NULL, t1 TINYINT(1) NULL,
     de0 DECIMAL(20,0) NULL, iu INT UNSIGNED NULL, biu BIGINT UNSIGNED NULL, bi BIGINT NULL, yr YEAR NULL, tm TIME NULL,
     dtt DATETIME NULL, en ENUM('a','b') NULL, uu UUID NULL, ir INT NULL, idc INT NULL, db DOUBLE NULL, KEY (ep_id)
   ) CHARSET utf8mb4`,
  'INSERT INTO ep VALUES (1), (2)',
  `INSERT INTO e (id, dt, da, ts, j, b1, t1, de0, iu, biu, bi, yr, tm, dtt, en, uu, ir, idc, db) VALUES
     (1, '0000-00-00 00:00:00', '0000-00-00', '0000-00-00 00:00:00', '-0', b'1', 1, 99999999999999999999, 4294967295,
      18446744073709551615, 9007199254740991, 2024, '-838:59:59', '0000-00-00 00:00:00', 'a', '123e4567-e89b-12d3-a456-426655440000',
      2147483647, -7, -0e0),
     (2, '2024-00-15 10:00:00', '2024-02-00', '2024-06-01 12:00:00.250', '[-0, {"a": -0.0, "b": 1e-400, "c": 12345678901234567890, "d": -1e-400}]',
      b'0', 0, -99999999999999999999, 0, 0, -9007199254740991, 0, '00:00:00', '2024-02-29 23:59:59', 'b', NULL, -2147483648, 0, 1e308),
     (3, '2024-02-30 00:00:00', '2024-02-29', '2038-01-19 03:14:07.999', '{"big": 1e308, "neg": -1.5e-5, "s": "-0 and 1e400 as text"}',
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
     (4, '0001-01-01 00:00:00.999999', '9999-12-31', '1970-01-01 00:00:01', '"-0"',
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
     (5, '2024-01-01 00:00:00.123456', '1000-01-01', NULL, '[1e308, -1e308, 5e-324]',
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
     (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  // JSON numbers beyond the double range, on their own parent so they only reach the rows that ask for them.
  `INSERT INTO e (id, ep_id, j) VALUES (10, 2, '1e400'), (11, 2, '[1, {"x": -1e999}]')`,
  'CREATE TABLE pst (id INT PRIMARY KEY)',
  'CREATE TABLE tg (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL)',
  'CREATE TABLE pst_tg (pst_id INT NOT NULL, tg_id INT NOT NULL)',
  'INSERT INTO pst VALUES (1), (2), (3)',
  "INSERT INTO tg VALUES (10, 'ten'), (11, 'eleven')",
  // The same link twice (no key on the join table): pst 1 → tg 10 twice, pst 2 → tg 10 three times.
  'INSERT INTO pst_tg VALUES (1, 10), (1, 11), (1, 10), (2, 10), (2, 10), (2, 10)',
];

const NULLS = Object.fromEntries(COLUMNS.slice(2).map((c) => [c, null]));
const EXPECTED: Record<number, Record<string, unknown>> = {
  1: {
    id: 1, ep_id: 1, dt: null, da: null, ts: null, j: 0, b1: true, t1: true, de0: 99999999999999999999n, iu: 4294967295,
    biu: 18446744073709551615n, bi: 9007199254740991, yr: 2024, tm: '-838:59:59', dtt: '0000-00-00 00:00:00', en: 'a',
    uu: '123e4567-e89b-12d3-a456-426655440000', ir: 2147483647, idc: '-7', db: 0,
  },
  2: {
    id: 2, ep_id: 1, dt: null, da: null, ts: new Date('2024-06-01T12:00:00.250Z'), j: [0, { a: 0, b: 0, c: 12345678901234567000, d: 0 }],
    b1: false, t1: false, de0: -99999999999999999999n, iu: 0, biu: 0n, bi: -9007199254740991, yr: 0, tm: '00:00:00',
    dtt: '2024-02-29 23:59:59', en: 'b', uu: null, ir: -2147483648, idc: '0', db: 1e308,
  },
  3: {
    ...NULLS, id: 3, ep_id: 1, dt: null, da: new Date('2024-02-29T00:00:00Z'), ts: new Date('2038-01-19T03:14:07.999Z'),
    j: { big: 1e308, neg: -0.000015, s: '-0 and 1e400 as text' },
  },
  4: { ...NULLS, id: 4, ep_id: 1, dt: new Date('0001-01-01T00:00:00.999Z'), da: new Date('9999-12-31T00:00:00Z'), ts: new Date('1970-01-01T00:00:01Z'), j: '-0' },
  5: { ...NULLS, id: 5, ep_id: 1, dt: new Date('2024-01-01T00:00:00.123Z'), da: new Date('1000-01-01T00:00:00Z'), j: [1e308, -1e308, 5e-324] },
  6: { ...NULLS, id: 6, ep_id: 1 },
};
const IDS = Object.keys(EXPECTED).map(Number);

function plain(e: EntityOf<S, 'E'>): Record<string, unknown> {
  return Object.fromEntries(COLUMNS.map((c) => [c, e[c]]));
}

/** deepStrictEqual tells -0 from 0 and checks Date/Buffer/bigint types; this also names the row and path. */
function assertRows(rows: Record<string, unknown>[], where: string): void {
  assert.deepStrictEqual(rows.map((r) => r.id), IDS, where);
  for (const row of rows) assert.deepStrictEqual(row, EXPECTED[row.id as number], `${where}: row ${String(row.id)}`);
}

describe('edge values: online and offline agree (MariaDB with a +05:00 server time zone → SQLite cache)', { skip }, () => {
  let db: TestDb;
  let globalZone: string;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...TABLES);
    const [[zone]] = (await db.admin.query('SELECT @@GLOBAL.time_zone AS z')) as unknown as [[{ z: string }]];
    globalZone = (zone as { z: string }).z;
    // Sessions opened from now on start in +05:00: the library's must still read TIMESTAMPs as UTC instants.
    await db.admin.query("SET GLOBAL time_zone = '+05:00'");
  });
  after(async () => {
    await db.admin.query('SET GLOBAL time_zone = ?', [globalZone]);
    await db.drop();
    tmp.remove();
  });

  it('the server really starts sessions in +05:00: an unpinned connection reads a TIMESTAMP five hours off', async () => {
    const conn = await mysqlPromise.createConnection({ uri: db.url, dateStrings: true });
    try {
      const [rows] = await conn.query('SELECT @@SESSION.time_zone AS z, ts FROM e WHERE id = 2');
      assert.deepEqual(rows, [{ z: '+05:00', ts: '2024-06-01 17:00:00.250' }]);
    } finally {
      await conn.end();
    }
  });

  for (const driver of DRIVERS) {
    it(`${driver} cache: entity loads, a custom query and a one-round-trip tree give the expected values online, then the same offline`, async () => {
      const files = { entity: tmp.file(`entity-${driver}.db`), query: tmp.file(`query-${driver}.db`), tree: tmp.file(`tree-${driver}.db`) };
      const QUERY = { tag: 'edge', sql: 'SELECT * FROM e WHERE ep_id = ? ORDER BY id', params: [1] };
      {
        const open = (file: string) => openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file, { driver }), mode: Mode.FRESHEN });
        await using s1 = await open(files.entity);
        await using v1 = s1.view();
        assertRows((await v1.E.many(IDS)).map((e) => plain(e as EntityOf<S, 'E'>)), `${driver} online entity`);
        await using s2 = await open(files.query);
        await using v2 = s2.view();
        assertRows((await v2.query('E', QUERY)).map(plain), `${driver} online query`);
        await using s3 = await open(files.tree);
        await using v3 = s3.view();
        const before = s3.stats.originRoundTrips;
        const [ep] = await v3.EP.many([1], { include: { es: true } });
        assert.equal(s3.stats.originRoundTrips - before, 1, 'the tree came in one round trip (the tree pool)');
        assertRows((await (ep as EntityOf<S, 'EP'>).es).map(plain), `${driver} online tree`);
      }
      const offline = (file: string) => openStore(schema, { origin: null, cache: testCache(file, { driver }), mode: Mode.OFFLINE });
      await using o1 = await offline(files.entity);
      await using w1 = o1.view();
      assertRows(await Promise.all(IDS.map(async (id) => plain(await w1.E(id)))), `${driver} offline entity`);
      await using o2 = await offline(files.query);
      await using w2 = o2.view();
      assertRows((await w2.query('E', QUERY)).map(plain), `${driver} offline query`);
      await using o3 = await offline(files.tree);
      await using w3 = o3.view();
      assertRows((await (await w3.EP(1)).es).map(plain), `${driver} offline tree`);
    });

    it(`${driver} cache: a JSON number beyond the double range is a TypeError naming the column, and nothing of that read is written`, async () => {
      const file = tmp.file(`overflow-${driver}.db`);
      {
        await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file, { driver }), mode: Mode.FRESHEN });
        await using view = store.view();
        for (const load of [() => view.E(10), () => view.E(11), () => view.EP(2).then((p) => p.es), () => view.EP.many([2], { include: { es: true } })]) {
          await assert.rejects(load(), (e: unknown) => {
            assert.ok(e instanceof TypeError && !(e instanceof OriginError), String(e));
            assert.match(e.message, /E\.j: a JSON number is beyond the range of a JavaScript number.*'text'/);
            return true;
          });
        }
      }
      const [rows] = await queryCacheFile<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM e');
      assert.equal(Number(rows?.n), 0);
      await using offline = await openStore(schema, { origin: null, cache: testCache(file, { driver }), mode: Mode.OFFLINE });
      await using view = offline.view();
      await assert.rejects(view.E(10), IsOfflineError);
    });

    it(`${driver} cache: a link twice in the join table gives its target once, online and offline, by relation and by tree`, async () => {
      const want = { p1: [10, 11], p2: [10], p3: [], t10: [1, 2], t11: [1] };
      const read = async (view: { Pst(id: number): Promise<EntityOf<S, 'Pst'>>; Tg(id: number): Promise<EntityOf<S, 'Tg'>> }) => {
        const ids = async (p: Promise<readonly { id: number }[]>) => (await p).map((x) => x.id);
        const [p1, p2, p3, t10, t11] = await Promise.all([view.Pst(1), view.Pst(2), view.Pst(3), view.Tg(10), view.Tg(11)]);
        return { p1: await ids(p1.tags), p2: await ids(p2.tags), p3: await ids(p3.tags), t10: await ids(t10.psts), t11: await ids(t11.psts) };
      };
      for (const how of ['relation', 'tree'] as const) {
        const file = tmp.file(`links-${how}-${driver}.db`);
        {
          await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file, { driver }), mode: Mode.FRESHEN });
          await using view = store.view();
          if (how === 'tree') {
            const psts = await view.Pst.many([1, 2, 3], { include: { tags: { psts: true } } });
            assert.deepEqual(await Promise.all(psts.map(async (p) => (await p!.tags).map((t) => t.id))), [want.p1, want.p2, want.p3]);
          }
          assert.deepEqual(await read(view), want, `${how} online`);
          const p1tags = await (await view.Pst(1)).tags;
          assert.equal(new Set(p1tags).size, p1tags.length, 'one object per tag');
        }
        await using offline = await openStore(schema, { origin: null, cache: testCache(file, { driver }), mode: Mode.OFFLINE });
        await using view = offline.view();
        assert.deepEqual(await read(view), want, `${how} offline`);
      }
    });
  }

  it("a caller's pool (JSON parsed by mysql2, its own date settings) gives the same JSON and date values", async () => {
    const pool = mysql.createPool({ uri: db.url, connectionLimit: 2, dateStrings: false });
    try {
      const file = tmp.file('caller-pool.db');
      const ids = IDS.filter((id) => id !== 6);
      const strip = (r: Record<string, unknown>) => ({ id: r.id, dt: r.dt, da: r.da, j: r.j });
      {
        await using store = await openStore(schema, { origin: mysqlOrigin({ pool }), cache: testCache(file), mode: Mode.FRESHEN });
        await using view = store.view();
        const rows = (await view.E.many(ids)).map((e) => strip(plain(e as EntityOf<S, 'E'>)));
        assert.deepStrictEqual(rows, ids.map((id) => strip(EXPECTED[id] as Record<string, unknown>)));
        await assert.rejects(view.E(10), /E\.j: a JSON number is beyond the range/);
      }
      await using offline = await openStore(schema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await using view = offline.view();
      const rows = await Promise.all(ids.map(async (id) => strip(plain(await view.E(id)))));
      assert.deepStrictEqual(rows, ids.map((id) => strip(EXPECTED[id] as Record<string, unknown>)));
    } finally {
      await new Promise<void>((resolve) => pool.end(() => resolve()));
    }
  });
});
