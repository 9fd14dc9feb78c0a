/**
 * Keys are what the origin says they are, in every table of the cache file: text keys that look alike as
 * numbers ('7', '007', '7.0', ' 7', '1e3', '1000') are distinct keys, and BIGINT UNSIGNED keys up to
 * 18446744073709551615 stay exact and distinct. Each spelling is loaded online alone into a file of its
 * own, then every spelling is asked offline from that file: only the loaded one answers, as the origin
 * did; then all are loaded into one file and every offline answer equals the origin's. On both drivers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  defineSchema, entity, hasMany, manyToMany, Mode, mysqlOrigin, openStore, sqliteCache, type SqliteDriver, type View,
} from 'asyncdbview';
import { queryCacheFile } from './helpers/cache-file.js';
import { part, type Part } from './helpers/part.js';
import { openSqlite } from './helpers/sqlite.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

const schema = defineSchema({
  P: entity({
    table: 'p', key: 'code',
    columns: { code: 'text', name: 'text' },
    relations: { cs: hasMany('C', 'p_code'), tags: manyToMany('T', { through: 'p_tag', sourceKey: 'p_code', targetKey: 't_id' }) },
  }),
  C: entity({ table: 'c', key: 'id', columns: { id: 'integer', p_code: 'text' }, relations: {} }),
  T: entity({
    table: 't', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { ps: manyToMany('P', { through: 'p_tag', sourceKey: 't_id', targetKey: 'p_code' }) },
  }),
  U: entity({ table: 'u', key: 'id', columns: { id: 'bigint', name: 'text' }, relations: { vs: hasMany('V', 'u_id') } }),
  V: entity({ table: 'v', key: 'id', columns: { id: 'integer', u_id: 'bigint' }, relations: {} }),
});
type S = typeof schema.entities;

const MAX = 18446744073709551615n;
const TEXT_KEYS = ['7', '007', '7.0', ' 7', '1e3', '1000'];
const BIG_KEYS = [MAX, MAX - 1n, 2n ** 63n, 2n ** 63n - 1n, 1n];

const TABLES = [
  'CREATE TABLE p (code VARCHAR(20) PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE c (id INT PRIMARY KEY, p_code VARCHAR(20) NOT NULL, KEY (p_code))',
  'CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE p_tag (p_code VARCHAR(20) NOT NULL, t_id INT NOT NULL, PRIMARY KEY (p_code, t_id), KEY (t_id))',
  'CREATE TABLE u (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE v (id INT PRIMARY KEY, u_id BIGINT UNSIGNED NOT NULL, KEY (u_id))',
  // '7.0' and '1e3' are not at the origin; the others are, each with other children and tags.
  "INSERT INTO p VALUES ('7', 'seven'), ('007', 'double-o-seven'), (' 7', 'space-seven'), ('1000', 'thousand')",
  "INSERT INTO c VALUES (1, '7'), (2, '7'), (3, '007'), (4, ' 7'), (5, '1000'), (6, '1e3'), (7, '7.0')",
  "INSERT INTO t VALUES (1, 't1'), (2, 't2'), (3, 't3')",
  "INSERT INTO p_tag VALUES ('7', 1), ('007', 2), (' 7', 3), ('1000', 1), ('1000', 2), ('1e3', 3)",
  `INSERT INTO u VALUES (${MAX}, 'max'), (${2n ** 63n}, 'two-to-63'), (1, 'one')`,
  `INSERT INTO v VALUES (1, ${MAX}), (2, ${MAX}), (3, ${MAX - 1n}), (4, ${2n ** 63n}), (5, ${2n ** 63n - 1n}), (6, 1)`,
];

/** What a view answers for one spelling: the entity's name (or absent/offline) and each relation's member ids. */
type Answer = Record<string, Part>;


async function askP(view: View<S>, code: string): Promise<Answer> {
  const name = await part(() => view.P(code), (p) => p.name);
  if (name === 'absent' || name === 'offline') return { name };
  const p = await view.P(code);
  return {
    name,
    cs: await part(async () => await p.cs, (cs) => cs.map((c) => c.id)),
    tags: await part(async () => await p.tags, (ts) => ts.map((t) => t.id)),
  };
}

async function askU(view: View<S>, id: bigint): Promise<Answer> {
  const name = await part(() => view.U(id), (u) => u.name);
  if (name === 'absent' || name === 'offline') return { name };
  const u = await view.U(id);
  return { name, vs: await part(async () => await u.vs, (vs) => vs.map((v) => v.id)) };
}

describe('keys are exact in every table of the cache file', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const truthP = new Map<string, Answer>();
  const truthU = new Map<bigint, Answer>();
  let compared = 0;
  before(async () => {
    db = await createTestDb(...TABLES);
    // The origin's own answers, by its own WHERE key = ?.
    const q = async <T>(sql: string, params: unknown[]) => (await db.admin.query(sql, params))[0] as T[];
    for (const code of TEXT_KEYS) {
      const [p] = await q<{ name: string }>('SELECT name FROM p WHERE code = ?', [code]);
      if (p === undefined) truthP.set(code, { name: 'absent' });
      else {
        const cs = await q<{ id: number }>('SELECT id FROM c WHERE p_code = ? ORDER BY id', [code]);
        const tags = await q<{ t_id: number }>('SELECT t_id FROM p_tag WHERE p_code = ? ORDER BY t_id', [code]);
        truthP.set(code, { name: p.name, cs: cs.map((r) => r.id), tags: tags.map((r) => r.t_id) });
      }
    }
    for (const id of BIG_KEYS) {
      const [u] = await q<{ name: string }>('SELECT name FROM u WHERE id = ?', [String(id)]);
      if (u === undefined) truthU.set(id, { name: 'absent' });
      else truthU.set(id, { name: u.name, vs: (await q<{ id: number }>('SELECT id FROM v WHERE u_id = ? ORDER BY id', [String(id)])).map((r) => r.id) });
    }
  });
  after(async () => {
    console.log(`# exact keys: ${TEXT_KEYS.length} text spellings, ${BIG_KEYS.length} BIGINT UNSIGNED keys, ${compared} offline answers compared`);
    await db.drop();
    tmp.remove();
  });

  it('a file of the former layout (key ANY columns) has its marks dropped on open, not guessed: its rows stay', async () => {
    const file = tmp.file('former-layout.db');
    // What the former layout held after loading P '007' and P '7.0' (absent): marks whose keys became 7.
    const f = await openSqlite(file);
    await f.exec(
      'CREATE TABLE adbv_meta (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL) WITHOUT ROWID;' +
        'CREATE TABLE ever_loaded (kind TEXT NOT NULL, key ANY NOT NULL, loaded_at INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;' +
        'CREATE TABLE adbv_fetching (kind TEXT NOT NULL, key ANY NOT NULL, owner TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;' +
        'CREATE TABLE adbv_queries (kind TEXT NOT NULL, params TEXT NOT NULL, entity TEXT NOT NULL, sql TEXT NOT NULL, PRIMARY KEY (kind, params)) WITHOUT ROWID;' +
        'CREATE TABLE adbv_query_rows (kind TEXT NOT NULL, params TEXT NOT NULL, pos INTEGER NOT NULL, entity TEXT NOT NULL, key ANY NOT NULL, PRIMARY KEY (kind, params, pos)) WITHOUT ROWID;' +
        'CREATE TABLE p (code TEXT NOT NULL, name TEXT, PRIMARY KEY (code));' +
        "INSERT INTO p VALUES ('007', 'double-o-seven');" +
        `INSERT INTO adbv_meta VALUES ('entity:P', '{"table":"p","key":"code","columns":[["code","text"],["name","text"]]}');` +
        "INSERT OR IGNORE INTO ever_loaded VALUES ('P', '007', 1), ('P', '7.0', 1), ('P.cs', '007', 1);",
    );
    assert.deepEqual(await f.all("SELECT key, typeof(key) AS t FROM ever_loaded WHERE kind = 'P'"), [{ key: 7, t: 'integer' }], 'the former layout merged both marks into 7');
    await f.close();
    await using store = await openStore(schema, { origin: null, cache: sqliteCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    assert.deepEqual(await askP(view, '7'), { name: 'offline' }, "'7' was never asked: not absent");
    assert.deepEqual(await askP(view, '7.0'), { name: 'offline' }, 'its mark is dropped, not guessed');
    assert.deepEqual(await askP(view, '007'), { name: 'double-o-seven', cs: 'offline', tags: 'offline' }, 'the row stays; its relation marks do not');
    assert.deepEqual(await queryCacheFile(file, 'SELECT * FROM ever_loaded'), []);
    assert.deepEqual(await queryCacheFile(file, 'SELECT code, _adbv_read_at FROM p'), [{ code: '007', _adbv_read_at: 0 }], 'its rows get the read stamp column, as older than any read');
  });

  for (const driver of DRIVERS) {
    it(`${driver}: a text spelling loaded alone answers only itself offline, as the origin did`, async () => {
      for (const loaded of TEXT_KEYS) {
        const file = tmp.file(`text-${driver}-${TEXT_KEYS.indexOf(loaded)}.db`);
        {
          await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.PREFER_CACHE });
          await using view = store.view();
          assert.deepEqual(await askP(view, loaded), truthP.get(loaded), `online ${JSON.stringify(loaded)}`);
        }
        await using store = await openStore(schema, { origin: null, cache: sqliteCache(file, { driver }), mode: Mode.OFFLINE });
        for (const asked of TEXT_KEYS) {
          await using view = store.view();
          const expected = asked === loaded ? truthP.get(asked) : { name: 'offline' };
          assert.deepEqual(await askP(view, asked), expected, `offline ${JSON.stringify(asked)} after loading only ${JSON.stringify(loaded)}`);
          compared++;
        }
      }
    });

    it(`${driver}: a BIGINT UNSIGNED key loaded alone answers only itself offline (max and max-1 distinct)`, async () => {
      for (const loaded of BIG_KEYS) {
        const file = tmp.file(`big-${driver}-${BIG_KEYS.indexOf(loaded)}.db`);
        {
          await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.PREFER_CACHE });
          await using view = store.view();
          assert.deepEqual(await askU(view, loaded), truthU.get(loaded), `online ${loaded}`);
        }
        await using store = await openStore(schema, { origin: null, cache: sqliteCache(file, { driver }), mode: Mode.OFFLINE });
        for (const asked of BIG_KEYS) {
          await using view = store.view();
          const expected = asked === loaded ? truthU.get(asked) : { name: 'offline' };
          assert.deepEqual(await askU(view, asked), expected, `offline ${asked} after loading only ${loaded}`);
          compared++;
        }
        const marks = await queryCacheFile<{ kind: string; key: unknown }>(file, "SELECT kind, key FROM ever_loaded WHERE kind IN ('U', 'U.vs') ORDER BY kind");
        const found = truthU.get(loaded)?.name !== 'absent';
        assert.deepEqual(marks, [{ kind: 'U', key: String(loaded) }, ...(found ? [{ kind: 'U.vs', key: String(loaded) }] : [])], 'marks keep the key exact');
        assert.deepEqual(await queryCacheFile(file, 'SELECT * FROM adbv_fetching'), [], 'every claim was released');
      }
    });

    it(`${driver}: every look-alike loaded into one file, one after another: each answers as the origin did, online and offline`, async () => {
      const file = tmp.file(`all-${driver}.db`);
      {
        await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.PREFER_CACHE });
        for (const code of TEXT_KEYS) {
          await using view = store.view();
          assert.deepEqual(await askP(view, code), truthP.get(code), `online ${JSON.stringify(code)}`);
        }
        for (const id of BIG_KEYS) {
          await using view = store.view();
          assert.deepEqual(await askU(view, id), truthU.get(id), `online ${id}`);
        }
        await using view = store.view();
        const ps = await Promise.all([1, 2, 3].map(async (t) => (await (await view.T(t)).ps).map((p) => p.code)));
        assert.deepEqual(ps, [['1000', '7'], ['007', '1000'], [' 7']], 'T.ps: the text keys of the join table, exact');
      }
      await using store = await openStore(schema, { origin: null, cache: sqliteCache(file, { driver }), mode: Mode.OFFLINE });
      await using view = store.view();
      for (const code of TEXT_KEYS) {
        assert.deepEqual(await askP(view, code), truthP.get(code), `offline ${JSON.stringify(code)}`);
        compared++;
      }
      for (const id of BIG_KEYS) {
        assert.deepEqual(await askU(view, id), truthU.get(id), `offline ${id}`);
        compared++;
      }
      const ps = await Promise.all([1, 2, 3].map(async (t) => (await (await view.T(t)).ps).map((p) => p.code)));
      assert.deepEqual(ps, [['1000', '7'], ['007', '1000'], [' 7']]);
      const pMarks = await queryCacheFile<{ key: unknown }>(file, "SELECT key FROM ever_loaded WHERE kind = 'P' ORDER BY key");
      assert.deepEqual(pMarks.map((m) => m.key), [...TEXT_KEYS].sort(), 'one P mark per spelling, as text');
      const uMarks = await queryCacheFile<{ key: unknown }>(file, "SELECT key FROM ever_loaded WHERE kind = 'U'");
      assert.deepEqual(new Set(uMarks.map((m) => m.key)), new Set(BIG_KEYS.map(String)), 'one U mark per key, exact');
      const stored = await queryCacheFile<{ id: unknown }>(file, 'SELECT id FROM u');
      assert.deepEqual(new Set(stored.map((r) => r.id)), new Set([MAX, 2n ** 63n, 1n].map(String)), 'rows keep the key exact');
    });
  }
});
