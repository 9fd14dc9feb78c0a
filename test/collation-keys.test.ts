/**
 * Keys the origin matches to a row of another spelling: 'ABC' to 'abc' under a case-insensitive
 * collation, 'abc ' to 'abc' under PAD SPACE, 'é' to 'e' accent-insensitively, '7' to DECIMAL 7.00.
 * Each asked spelling gets the row the origin's own `WHERE key = ?` returns, online and then offline
 * from the cache, as one object with the row's own spelling; a spelling never asked is not answered
 * offline; relations whose rows spell the key otherwise are right online and never wrong offline; and
 * a row that goes at the origin takes the marks of every spelling it answered. On both drivers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  belongsTo, defineSchema, entity, hasMany, mysqlOrigin, Mode, openStore, sqliteCache, type SqliteDriver,
} from 'asyncdbview';
import { queryCacheFile } from './helpers/cache-file.js';
import { part } from './helpers/part.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

const schema = defineSchema({
  W: entity({ table: 'w', key: 'code', columns: { code: 'text', name: 'text' }, relations: { xs: hasMany('X', 'w_code') } }),
  X: entity({ table: 'x', key: 'id', columns: { id: 'integer', w_code: 'text' }, relations: { w: belongsTo('W', 'w_code') } }),
  D: entity({ table: 'd', key: 'id', columns: { id: 'decimal', name: 'text' }, relations: {} }),
});

const TABLES = [
  'CREATE TABLE w (code VARCHAR(20) COLLATE utf8mb4_general_ci PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE x (id INT PRIMARY KEY, w_code VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, KEY (w_code))',
  'CREATE TABLE d (id DECIMAL(10,2) PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  "INSERT INTO w VALUES ('abc', 'lower'), ('def', 'plain'), ('e', 'bare-e')",
  // x 1 and 2 spell their parent otherwise; x 3 and 4 exactly.
  "INSERT INTO x VALUES (1, 'ABC'), (2, 'abc'), (3, 'def'), (4, 'def'), (5, 'Abc ')",
  "INSERT INTO d VALUES (7.00, 'seven'), (7.50, 'seven-and-a-half')",
];

/** Spellings asked of W, with the row the origin's WHERE code = ? gives (checked against MariaDB in before()). */
const W_ASKED = ['abc', 'ABC', 'abc ', 'Abc', 'DEF', 'É', 'zzz'];
const D_ASKED = ['7', '7.0', '7.00', '7.5', '8'];


describe('keys of another spelling: the origin decides what matches', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const truthW = new Map<string, string>();
  const truthXs = new Map<string, number[]>();
  const truthD = new Map<string, string>();
  let compared = 0;
  before(async () => {
    db = await createTestDb(...TABLES);
    const q = async <T>(sql: string, params: unknown[]) => (await db.admin.query(sql, params))[0] as T[];
    for (const code of W_ASKED) {
      const rows = await q<{ name: string }>('SELECT name FROM w WHERE code = ?', [code]);
      truthW.set(code, rows[0]?.name ?? 'absent');
      truthXs.set(code, (await q<{ id: number }>('SELECT id FROM x WHERE w_code = ? ORDER BY id', [code])).map((r) => r.id));
    }
    for (const id of D_ASKED) truthD.set(id, (await q<{ name: string }>('SELECT name FROM d WHERE id = ?', [id]))[0]?.name ?? 'absent');
    // The premise: the origin matches other spellings.
    assert.equal(truthW.get('ABC'), 'lower');
    assert.equal(truthW.get('abc '), 'lower');
    assert.equal(truthW.get('É'), 'bare-e');
    assert.equal(truthD.get('7'), 'seven');
    assert.deepEqual(truthXs.get('abc'), [1, 2, 5]);
  });
  after(async () => {
    console.log(`# keys of another spelling: ${W_ASKED.length} text and ${D_ASKED.length} DECIMAL spellings, ${compared} answers compared with the origin's`);
    await db.drop();
    tmp.remove();
  });

  for (const driver of DRIVERS) {
    it(`${driver}: each spelling answers the origin's row online and offline, as one object; a spelling never asked is not answered offline`, async () => {
      const file = tmp.file(`spellings-${driver}.db`);
      const asked = ['abc', 'ABC', 'abc ', 'DEF', 'É', 'zzz'];
      {
        await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.PREFER_CACHE });
        await using view = store.view();
        // One batch: every spelling in the same tick.
        const names = await Promise.all(asked.map((code) => part(() => view.W(code), (w) => w.name)));
        assert.deepEqual(names, asked.map((code) => truthW.get(code)));
        compared += asked.length;
        assert.equal(await view.W('ABC'), await view.W('abc'), "'ABC' and 'abc' are one object");
        assert.equal(await view.W('abc '), await view.W('abc'));
        assert.equal((await view.W('ABC')).code, 'abc', "the object has the row's own spelling");
        const ds = await Promise.all(['7', '7.5', '8'].map((id) => part(() => view.D(id), (d) => d.name)));
        assert.deepEqual(ds, ['7', '7.5', '8'].map((id) => truthD.get(id)));
        compared += 3;
        await store.flush();
        assert.deepEqual((await store.verify()).problems, [], 'verify() finds every mark backed');
      }
      await using store = await openStore(schema, { origin: null, cache: sqliteCache(file, { driver }), mode: Mode.OFFLINE });
      await using view = store.view();
      for (const code of W_ASKED) {
        const expected = asked.includes(code) ? truthW.get(code) : 'offline';
        assert.equal(await part(() => view.W(code), (w) => w.name), expected, `offline W ${JSON.stringify(code)}`);
        compared++;
      }
      assert.equal(await view.W('ABC'), await view.W('abc'), 'offline too, one object');
      for (const id of D_ASKED) {
        // '7.00' is the row's own spelling: the row held answers it.
        const expected = ['7', '7.5', '8', '7.00'].includes(id) ? truthD.get(id) : 'offline';
        assert.equal(await part(() => view.D(id), (d) => d.name), expected, `offline D ${id}`);
        compared++;
      }
    });

    it(`${driver}: relations and trees whose rows spell the key otherwise: right online, never wrong offline`, async () => {
      const file = tmp.file(`relations-${driver}.db`);
      const idsOf = (xs: readonly { id: number }[]) => xs.map((x) => x.id);
      {
        await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.PREFER_CACHE });
        {
          await using view = store.view();
          const [abc, def] = await Promise.all([view.W('abc'), view.W('DEF')]);
          assert.deepEqual(idsOf(await abc.xs), truthXs.get('abc'), "W 'abc'.xs: every row the origin matches");
          assert.deepEqual(idsOf(await def.xs), truthXs.get('DEF'));
          const x1 = await view.X(1);
          assert.equal(await x1.w, abc, "X 1.w ('ABC') is W 'abc', one object");
          assert.equal(await (await view.X(5)).w, abc, "X 5.w ('Abc ') too");
        }
        {
          // One round trip from the roots: the tree's rows say only what they spell.
          await using view = store.view({ mode: Mode.FRESHEN });
          const [abc, upper] = await view.W.many(['abc', 'ABC'], { include: { xs: { w: true } } });
          assert.equal(abc, upper);
          assert.deepEqual(idsOf(await (abc as NonNullable<typeof abc>).xs), truthXs.get('abc'));
          const x = await view.X(1, { include: { w: { xs: true } } });
          assert.equal(await x.w, abc);
        }
        await store.flush();
        assert.deepEqual((await store.verify()).problems, [], 'verify() finds every mark backed');
      }
      await using store = await openStore(schema, { origin: null, cache: sqliteCache(file, { driver }), mode: Mode.OFFLINE });
      await using view = store.view();
      for (const code of ['abc', 'DEF']) {
        const w = await view.W(code);
        const xs = await part(async () => await w.xs, idsOf);
        // Offline an answer is the origin's or none: never the rows of one spelling only.
        assert.ok(xs === 'offline' || JSON.stringify(xs) === JSON.stringify(truthXs.get(code)), `offline W ${code}.xs: ${JSON.stringify(xs)}`);
        compared++;
      }
      assert.deepEqual(idsOf(await (await view.W('def')).xs), [3, 4], 'exactly spelled children are answered offline');
    });

    it(`${driver}: a row that goes at the origin takes the marks of every spelling it answered`, async () => {
      const t = await createTestDb(...TABLES);
      try {
        const file = tmp.file(`gone-${driver}.db`);
        {
          await using store = await openStore(schema, { origin: mysqlOrigin(t.url), cache: sqliteCache(file, { driver }), mode: Mode.PREFER_CACHE });
          await using view = store.view();
          await Promise.all([view.W('ABC'), view.W('abc '), view.W('abc')]);
          await store.flush();
          assert.equal((await queryCacheFile<{ n: number }>(file, "SELECT COUNT(*) AS n FROM adbv_alias WHERE kind = 'W'"))[0]?.n, 2);
          await t.admin.query("DELETE FROM w WHERE code = 'abc'");
          await using fresh = store.view({ mode: Mode.FRESHEN });
          assert.equal(await part(() => fresh.W('abc'), (w) => w.name), 'absent');
          await store.flush();
        }
        await using store = await openStore(schema, { origin: null, cache: sqliteCache(file, { driver }), mode: Mode.OFFLINE });
        await using view = store.view();
        assert.equal(await part(() => view.W('abc'), (w) => w.name), 'absent', 'the key reloaded: absent');
        for (const code of ['ABC', 'abc ']) assert.equal(await part(() => view.W(code), (w) => w.name), 'offline', `${JSON.stringify(code)}: its row went, so its mark did`);
        assert.deepEqual(await queryCacheFile(file, "SELECT * FROM adbv_alias WHERE kind = 'W'"), []);
        assert.deepEqual((await store.verify()).problems, []);
      } finally {
        await t.drop();
      }
    });
  }
});
