import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  belongsTo, defineSchema, entity, hasMany, IsOfflineError, Mode, mysqlOrigin, NotFoundError, openStore, RefusedSqlError, type Store,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

const schema = defineSchema({
  A: entity({ table: 'a', key: 'id', columns: { id: 'integer', name: 'text' }, relations: { bs: hasMany('B', 'a_id') } }),
  B: entity({ table: 'b', key: 'id', columns: { id: 'integer', name: 'text', a_id: 'integer?' }, relations: { a: belongsTo('A', 'a_id') } }),
  T: entity({ table: 't', key: 'code', columns: { code: 'text', label: 'text' } }),
  Big: entity({ table: 'big', key: 'id', columns: { id: 'bigint', v: 'bigint' }, relations: { kids: hasMany('Kid', 'big_id') } }),
  Kid: entity({ table: 'kid', key: 'id', columns: { id: 'integer', big_id: 'bigint' }, relations: { big: belongsTo('Big', 'big_id') } }),
  D: entity({ table: 'd', key: 'id', columns: { id: 'integer', at: 'datetime', at2: 'datetime?' } }),
});
type S = (typeof schema)['entities'];

/** Strings that would do harm if they ever reached SQL as text rather than as bound values. */
const SQLISH = [
  "'; DROP TABLE a; --",
  "x' OR '1'='1",
  '"; DROP TABLE t; --',
  "') ; DELETE FROM ever_loaded; --",
  '/* comment */ SELECT 1',
  '-- just a comment',
  'back\\slash\\',
  '`tick`; DROP TABLE b',
  '%_ wildcards %',
  '?',
  '$1 ?1 :name',
];
/** Odd but valid text. */
const ODD = ['emoji 😀👍🏽 family 👨‍👩‍👧', 'nul \u0000 inside', 'tab\there\nnewline\r\n', ' leading space', 'ünïcödé ß 中文 العربية', ''];
/** A lone surrogate cannot be UTF-8: the driver sends U+FFFD in its place (see the test). */
const LONE = 'lone \ud800 surrogate';
const LONE_AS_SENT = 'lone \ufffd surrogate';

const BIGS = [1n, 9007199254740993n, 9223372036854775807n, -9223372036854775808n, 18014398509481985n];

describe('hostile and odd input', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  let n = 0;
  const cacheFile = () => tmp.file(`hostile-${++n}.db`);
  let checksum: string;
  const tally = { bad: 0 };

  async function originChecksum(): Promise<string> {
    const [rows] = await db.admin.query('CHECKSUM TABLE a, b, t, big, kid, d');
    const [counts] = await db.admin.query(
      'SELECT (SELECT COUNT(*) FROM a) a, (SELECT COUNT(*) FROM b) b, (SELECT COUNT(*) FROM t) t, (SELECT COUNT(*) FROM big) big, (SELECT COUNT(*) FROM kid) kid, (SELECT COUNT(*) FROM d) d',
    );
    return JSON.stringify([rows, counts]);
  }

  before(async () => {
    db = await createTestDb(
      'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(200) NOT NULL)',
      'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(200) NOT NULL, a_id INT NULL, KEY (a_id))',
      'CREATE TABLE t (code VARCHAR(191) NOT NULL PRIMARY KEY, label TEXT NOT NULL) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
      'CREATE TABLE big (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)',
      'CREATE TABLE kid (id INT PRIMARY KEY, big_id BIGINT NOT NULL, KEY (big_id))',
      'CREATE TABLE d (id INT PRIMARY KEY, at DATETIME(3) NOT NULL, at2 DATETIME(3) NULL)',
      // A 100, 200, ..., 100000: one key in a hundred exists.
      "INSERT INTO a SELECT seq * 100, CONCAT('a', seq * 100) FROM seq_1_to_1000",
      "INSERT INTO b VALUES (1, 'orphan', NULL), (2, 'b2', 100)",
      'INSERT INTO d VALUES (1, \'1000-01-01 00:00:00\', NULL), (2, \'9999-12-31 23:59:59.999\', \'1970-01-01 00:00:00\')',
    );
    // Text through bound parameters, as any client would write it.
    for (const [i, code] of [...SQLISH, ...ODD, LONE].entries()) {
      await db.admin.query('INSERT INTO t VALUES (?, ?)', [code, `label ${i}: ${code}`]);
    }
    for (const [i, v] of BIGS.entries()) {
      await db.admin.query('INSERT INTO big VALUES (?, ?)', [String(v), String(BIGS[(i + 1) % BIGS.length])]);
      await db.admin.query('INSERT INTO kid VALUES (?, ?)', [i + 1, String(v)]);
    }
    checksum = await originChecksum();
  });
  afterEach(async () => {
    assert.equal(await originChecksum(), checksum, 'the origin tables are unchanged (row counts and checksums)');
  });
  after(async () => {
    console.log(`# hostile input: ${tally.bad} bad or hostile inputs tried`);
    await db.drop();
    tmp.remove();
  });

  const online = (file: string, mode: Mode = Mode.FRESHEN) => openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode });
  const offline = (file: string) => openStore(schema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
  async function verified(store: Store<S>): Promise<void> {
    const report = await store.verify();
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
  }
  /** The cache file's own tables: hostile text must not have dropped or added any. */
  async function cacheTables(file: string): Promise<string[]> {
    const f = await openSqlite(file, true);
    try {
      return await f.tables();
    } finally {
      await f.close();
    }
  }

  it('SQL in text keys: every key is a value, found or not found, online and offline', async () => {
    const file = cacheFile();
    const codes = [...SQLISH, ...ODD];
    const missing = ["nope'; DROP TABLE t; --", "' OR 1=1 --", 'x" OR "1"="1', "\\'; DELETE FROM a; --"];
    tally.bad += codes.length + missing.length;
    {
      await using store = await online(file);
      const tablesBefore = await cacheTables(file);
      await using view = store.view();
      const got = await measure(db, store, () => view.T.many(codes));
      assert.equal(got.originQueries, 1, 'one batch, one statement');
      assert.equal(got.selects, 1, 'Com_select agrees');
      assert.deepEqual(got.value.map((t) => t!.code), codes);
      assert.deepEqual(got.value.map((t) => t!.label), codes.map((c, i) => `label ${i}: ${c}`));
      for (const code of missing) await assert.rejects(view.T(code), NotFoundError);
      const none = await view.T.many(missing, { nullForMissing: true });
      assert.deepEqual(none, missing.map(() => null));
      assert.deepEqual(await cacheTables(file), tablesBefore, 'the cache file has the same tables');
      await verified(store);
    }
    await using store = await offline(file);
    await using view = store.view();
    assert.deepEqual((await view.T.many(codes)).map((t) => t!.label), codes.map((c, i) => `label ${i}: ${c}`));
    for (const code of missing) await assert.rejects(view.T(code), NotFoundError, 'absence recorded under the hostile key');
    await verified(store);
  });

  it('SQL in custom query params and tags, and in raw params: bound, never spliced', async () => {
    const file = cacheFile();
    const tag = "t'; DROP TABLE ever_loaded; --";
    const spec = {
      tag,
      sql: 'SELECT * FROM t WHERE code IN (?, ?, ?) ORDER BY code',
      params: [SQLISH[0], SQLISH[1], "'; DROP TABLE t; --"],
    };
    tally.bad += 5;
    {
      await using store = await online(file);
      await using view = store.view();
      const rows = await view.query('T', spec);
      assert.deepEqual(rows.map((r) => r.code), [SQLISH[0], SQLISH[1]].sort());
      const [echo] = await view.raw('SELECT ? AS v, ? AS w, ? AS x', ["'); DROP TABLE a; --", "\\'; SELECT 1; --", '?']);
      assert.deepEqual({ ...echo }, { v: "'); DROP TABLE a; --", w: "\\'; SELECT 1; --", x: '?' });
      // Two statements in one string are not run: refused before anything is sent.
      await assert.rejects(view.raw('SELECT 1; DROP TABLE a'), RefusedSqlError);
      await verified(store);
    }
    await using store = await offline(file);
    await using view = store.view();
    assert.deepEqual((await view.query('T', spec)).map((r) => r.code), [SQLISH[0], SQLISH[1]].sort(), 'recorded under the hostile tag, answered offline');
    await verified(store);
  });

  it('wrong key and parameter types are TypeErrors naming the bad value, and send nothing', async () => {
    const file = cacheFile();
    await using store = await online(file);
    await using view = store.view();
    const cases: [string, () => Promise<unknown>, string][] = [
      ['A(NaN)', () => view.A(NaN as never), 'NaN'],
      ['A(Infinity)', () => view.A(Infinity as never), 'Infinity'],
      ['A({})', () => view.A({} as never), '{}'],
      ['A(undefined)', () => view.A(undefined as never), 'undefined'],
      ['A(null)', () => view.A(null as never), 'null'],
      ['A("1")', () => view.A('1' as never), '"1"'],
      ['A(1.5)', () => view.A(1.5), '1.5'],
      ['A(2 ** 53)', () => view.A(2 ** 53), '9007199254740992'],
      ['A([1])', () => view.A([1] as never), '[1]'],
      ['T(5)', () => view.T(5 as never), '5'],
      ['T(Symbol)', () => view.T(Symbol('k') as never), 'Symbol(k)'],
      ['Big(1.5)', () => view.Big(1.5 as never), '1.5'],
      ['Big("9007199254740993")', () => view.Big('9007199254740993' as never), '"9007199254740993"'],
      ['A.many([100, "200"])', () => view.A.many([100, '200'] as never), '"200"'],
      ['A.many([100, NaN])', () => view.A.many([100, NaN]), 'NaN'],
      ['A.many([100, undefined])', () => view.A.many([100, undefined] as never), 'undefined'],
      ['A.many("100")', () => view.A.many('100' as never), '"100"'],
      ['query params [NaN]', () => view.query('T', { tag: 'q', sql: 'SELECT * FROM t WHERE code = ?', params: [NaN] }), 'NaN'],
      ['query params [{}]', () => view.query('T', { tag: 'q', sql: 'SELECT * FROM t WHERE code = ?', params: [{ toString: () => "' OR 1=1" }] }), 'params[0]'],
      ['query params [undefined]', () => view.query('T', { tag: 'q', sql: 'SELECT * FROM t WHERE code = ?', params: [undefined] }), 'undefined'],
      ['query params [() => 1]', () => view.query('T', { tag: 'q', sql: 'SELECT * FROM t WHERE code = ?', params: [() => 1] }), 'function'],
      ['query params not an array', () => view.query('T', { tag: 'q', sql: 'SELECT * FROM t WHERE code = ?', params: "'x'" as never }), "\"'x'\""],
      ['raw params not an array', () => view.raw('SELECT ?', "'x'" as never), 'array'],
    ];
    tally.bad += cases.length;
    const cost = await measure(db, store, async () => {
      for (const [what, call, named] of cases) {
        let error: unknown;
        try {
          await call();
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof TypeError, `${what}: expected a TypeError, got ${String(error)}`);
        assert.ok(error.message.includes(named), `${what}: the message ${JSON.stringify(error.message)} names ${named}`);
      }
    });
    assert.equal(cost.originQueries, 0);
    assert.equal(cost.selects, 0, 'no statement reached the server');
    // A bad key fails only its own lookup: good keys of the same tick are answered.
    const [good, bad] = await Promise.allSettled([view.A(100), view.A('100' as never)]);
    assert.equal(good.status, 'fulfilled');
    assert.equal(bad.status, 'rejected');
    await verified(store);
  });

  it('100,000 keys in one many() call, nearly all missing: the right answer, 20 origin statements of at most 5,000 keys (the default batchSize)', async () => {
    const file = cacheFile();
    const keys = Array.from({ length: 100_000 }, (_, i) => i + 1);
    tally.bad += 1;
    await using store = await online(file, Mode.PREFER_CACHE);
    const sizes: number[] = [];
    store.on('query', (e) => {
      if (e.target === 'origin') sizes.push(e.params);
    });
    await using view = store.view();
    const cold = await measure(db, store, () => view.A.many(keys, { nullForMissing: true }));
    assert.equal(cold.value.length, keys.length);
    const found = cold.value.flatMap((a, i) => (a === null ? [] : [[keys[i]!, a.id, a.name] as const]));
    assert.equal(found.length, 1000);
    for (const [key, id, name] of found) {
      assert.equal(id, key);
      assert.equal(key % 100, 0);
      assert.equal(name, `a${key}`);
    }
    assert.equal(cold.originQueries, 20, 'split at batchSize 5,000');
    assert.equal(cold.selects, 20, 'the server ran 20 SELECTs');
    assert.equal(sizes.length, 20);
    assert.ok(sizes.every((s) => s === 5000), `every statement carried 5,000 keys (${[...new Set(sizes)].join(', ')})`);
    await using again = store.view();
    const warm = await measure(db, store, () => again.A.many(keys, { nullForMissing: true }));
    assert.equal(warm.originQueries, 0, 'all 100,000 complete in the cache, absences included');
    assert.equal(warm.selects, 0, 'Com_select agrees');
    assert.deepEqual(warm.value.map((a) => a?.id ?? null), cold.value.map((a) => a?.id ?? null));
    await verified(store);
    await store.close();
    await using off = await offline(file);
    const offAnswer = await off.view().A.many(keys, { nullForMissing: true });
    assert.equal(offAnswer.filter((a) => a !== null).length, 1000);
  });

  it('NUL, emoji and other odd text round-trip origin → cache → offline byte for byte', async () => {
    const file = cacheFile();
    tally.bad += ODD.length;
    const expected = ODD.map((c) => ({ code: c, label: `label ${SQLISH.length + ODD.indexOf(c)}: ${c}` }));
    {
      await using store = await online(file);
      const got = await store.view().T.many(ODD);
      assert.deepEqual(got.map((t) => ({ code: t!.code, label: t!.label })), expected);
    }
    // The cache holds the same UTF-8 bytes the server holds.
    const [serverHex] = await db.admin.query('SELECT HEX(label) AS h FROM t WHERE code = ?', [ODD[1]]);
    const f = await openSqlite(file, true);
    const cacheHex = await f.all<{ h: string }>('SELECT hex(label) AS h FROM t WHERE code = ?', [ODD[1]]);
    await f.close();
    assert.equal(cacheHex[0]?.h, (serverHex as { h: string }[])[0]?.h, 'NUL kept in the cache');
    await using store = await offline(file);
    const off = await store.view().T.many(ODD);
    assert.deepEqual(off.map((t) => ({ code: t!.code, label: t!.label })), expected);
    await verified(store);
  });

  it('a lone surrogate (\\ud800) in text is not UTF-8: the driver sends U+FFFD, and the library round-trips U+FFFD exactly', async () => {
    const file = cacheFile();
    tally.bad += 1;
    // What the server holds: the row was written with '\ud800' and stored as EF BF BD.
    const [rows] = await db.admin.query("SELECT code, HEX(code) AS h FROM t WHERE code LIKE 'lone %'");
    assert.deepEqual((rows as { code: string }[]).map((r) => r.code), [LONE_AS_SENT]);
    assert.match((rows as { h: string }[])[0]!.h, /EFBFBD/);
    const label = `label ${SQLISH.length + ODD.length}: ${LONE_AS_SENT}`;
    {
      await using store = await online(file);
      const t = await store.view().T(LONE_AS_SENT);
      assert.equal(t.code, LONE_AS_SENT);
      assert.equal(t.label, label);
      await verified(store);
    }
    const f = await openSqlite(file, true);
    const hex = await f.all<{ h: string }>('SELECT hex(label) AS h FROM t');
    await f.close();
    assert.deepEqual(hex.map((r) => r.h), [Buffer.from(label, 'utf8').toString('hex').toUpperCase()], 'the cache holds the same UTF-8 bytes');
    await using store = await offline(file);
    assert.equal((await store.view().T(LONE_AS_SENT)).label, label);
    await verified(store);
  });

  /** Looks up T(LONE) through a FRESHEN store so its absence is recorded in `file`; that answer is NotFoundError. */
  it('a lone surrogate as a key: a TypeError naming it, online and offline, nothing sent, nothing recorded', async () => {
    // A lone surrogate cannot be stored as UTF-8 (the server and SQLite would each give back something else),
    // so no answer for it could be kept truthfully: the key is refused before any statement.
    const file = cacheFile();
    tally.bad += 1;
    {
      await using store = await online(file);
      await using view = store.view();
      const before = store.stats.originQueries;
      const err = await view.T(LONE).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TypeError, `T(lone surrogate) online: ${String(err)}`);
      assert.match((err as Error).message, /well-formed/);
      assert.equal(store.stats.originQueries, before, 'no origin statement');
      await verified(store);
    }
    const f = await openSqlite(file, true);
    const marks = await f.all<{ n: number }>("SELECT COUNT(*) AS n FROM ever_loaded WHERE kind = 'T'");
    await f.close();
    assert.deepEqual(marks, [{ n: 0 }], 'nothing recorded for it');
    await using store = await offline(file);
    const again = await store.view().T(LONE).then(() => undefined, (e: unknown) => e);
    assert.ok(again instanceof TypeError, `offline: ${String(again)}`);
  });

  it('bigints beyond 2^53 as keys, values and foreign keys: exact, online and offline', async () => {
    const file = cacheFile();
    tally.bad += BIGS.length;
    const check = async (store: Store<S>) => {
      await using view = store.view();
      const bigs = await view.Big.many(BIGS);
      assert.deepEqual(bigs.map((b) => b!.id), BIGS);
      assert.deepEqual(bigs.map((b) => b!.v), BIGS.map((_, i) => BIGS[(i + 1) % BIGS.length]));
      const kids = await Promise.all(bigs.map((b) => b!.kids));
      assert.deepEqual(kids.map((k) => k.map((x) => x.big_id)), BIGS.map((v) => [v]));
      assert.equal(await kids[1]![0]!.big, bigs[1], 'belongsTo by a bigint beyond 2^53 finds the same object');
      assert.equal(await view.Big(9007199254740993n), bigs[1]);
      await assert.rejects(view.Big(9007199254740992n), NotFoundError, '2^53 is a different key from 2^53 + 1');
    };
    {
      await using store = await online(file);
      await check(store);
    }
    const f = await openSqlite(file, true);
    const stored = await f.all<{ id: unknown; v: unknown }>('SELECT id, v FROM big WHERE id = ?', ['9007199254740993']);
    await f.close();
    assert.deepEqual(stored, [{ id: '9007199254740993', v: '9223372036854775807' }], 'stored as exact text');
    await using store = await offline(file);
    await check(store);
    await verified(store);
  });

  it('datetimes at the edges (1000-01-01 00:00:00, 9999-12-31 23:59:59.999): exact, online and offline', async () => {
    const file = cacheFile();
    tally.bad += 3;
    const check = async (store: Store<S>) => {
      await using view = store.view();
      const [d1, d2] = await view.D.many([1, 2]);
      assert.equal(d1!.at.toISOString(), '1000-01-01T00:00:00.000Z');
      assert.equal(d1!.at2, null);
      assert.equal(d2!.at.toISOString(), '9999-12-31T23:59:59.999Z');
      assert.equal(d2!.at2!.getTime(), 0);
    };
    {
      await using store = await online(file);
      await check(store);
    }
    await using store = await offline(file);
    await check(store);
    await verified(store);
  });

  it('a NULL foreign key is null, with no statement at all', async () => {
    const file = cacheFile();
    tally.bad += 1;
    {
      await using store = await online(file);
      await using view = store.view();
      const [orphan, b2] = await view.B.many([1, 2]);
      const cost = await measure(db, store, async () => orphan!.a);
      assert.equal(cost.value, null);
      assert.equal(cost.originQueries, 0);
      assert.equal(cost.selects, 0);
      assert.ok(cost.cacheQueries === 0, 'not even a cache statement');
      assert.equal((await b2!.a)?.id, 100);
    }
    await using store = await offline(file);
    await using view = store.view();
    assert.equal(await (await view.B(1)).a, null);
    await assert.rejects(view.A(200), IsOfflineError, 'A 200 was never asked');
    await verified(store);
  });
});
