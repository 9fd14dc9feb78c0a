import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  belongsTo, createStore, defineSchema, entity, hasMany, manyToMany, Mode, mysqlOrigin, openStore, sqliteCache, type EntityOf, type QueryEvent,
  type SqliteDriver, type View,
} from 'asyncdbview';
import { queryCacheFile } from './helpers/cache-file.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { readTruth, rng, shuffle, treeSchema, treeTables, type Truth } from './helpers/tree.js';
import { startWorker, type WorkerResult } from './helpers/worker-process.js';

/**
 * The cache on each driver, sqlite3 (the default) and better-sqlite3 (optional): the same values stored
 * and read back, the same statements, the same read-only caller SQL, the same claims between processes.
 * The other cache-facing test files run on either driver with ADBV_TEST_CACHE_DRIVER (`npm run
 * test:better-sqlite3`).
 */
const skip = await mysqlSkipReason();
const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];
const other = (driver: SqliteDriver): SqliteDriver => (driver === 'sqlite3' ? 'better-sqlite3' : 'sqlite3');

/** A composite key as the runtime takes it (the public key type does not take composite keys). */
const k = (key: unknown): never => key as never;

const schema = defineSchema({
  T: entity({
    table: 'types_t', key: 'id',
    columns: {
      id: 'integer', i: 'integer?', bi: 'bigint?', r: 'real?', d: 'decimal?', t: 'text?',
      bo: 'boolean?', dt: 'datetime?', j: 'json?', bl: 'blob?',
    },
    relations: {},
  }),
  Author: entity({
    table: 'author', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { posts: hasMany('Post', 'author_id') },
  }),
  Post: entity({
    table: 'post', key: 'id',
    columns: { id: 'integer', title: 'text', author_id: 'integer' },
    relations: {
      author: belongsTo('Author', 'author_id'),
      tags: manyToMany('Tag', { through: 'post_tags', sourceKey: 'post_id', targetKey: 'tag_id' }),
    },
  }),
  Tag: entity({
    table: 'tag', key: 'id',
    columns: { id: 'integer', label: 'text' },
    relations: {},
  }),
  Region: entity({
    table: 'region', key: ['country', 'code'],
    columns: { country: 'text', code: 'integer', name: 'text' },
    relations: { cities: hasMany('City', ['country', 'region_code']) },
  }),
  City: entity({
    table: 'city', key: ['country', 'code'],
    columns: { country: 'text', code: 'text', name: 'text', region_code: 'integer?' },
    relations: { region: belongsTo('Region', ['country', 'region_code']) },
  }),
});
type S = typeof schema.entities;

const TABLES = [
  `CREATE TABLE types_t (
     id INT PRIMARY KEY, i INT NULL, bi BIGINT NULL, r DOUBLE NULL, d DECIMAL(30,10) NULL, t TEXT NULL,
     bo TINYINT(1) NULL, dt DATETIME(3) NULL, j JSON NULL, bl BLOB NULL
   ) DEFAULT CHARSET = utf8mb4 COLLATE utf8mb4_unicode_ci`,
  `INSERT INTO types_t VALUES
     (1, 2147483647, 9007199254740993, 3.141592653589793, '12345678901234567890.0123456789', 'héllo 🎉', 1,
      '2024-02-29 12:34:56.789', '{"a": 1, "b": [true, null, 2.5], "s": "x😀"}', X'00FF0110'),
     (2, -2147483648, -9223372036854775808, -0.5, '-0.0000000001', '', 0, '1970-01-01 00:00:00.001', '[1, "two"]', X''),
     (3, 0, 9223372036854775807, 1e308, '0.0000000000', 'quote '' and \\\\ backslash', 1, '9999-12-31 23:59:59', '"str"', X'FF'),
     (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  'CREATE TABLE author (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)',
  'CREATE TABLE post (id INT PRIMARY KEY, title VARCHAR(50) NOT NULL, author_id INT NOT NULL, KEY (author_id))',
  'CREATE TABLE tag (id INT PRIMARY KEY, label VARCHAR(50) NOT NULL)',
  'CREATE TABLE post_tags (post_id INT NOT NULL, tag_id INT NOT NULL, PRIMARY KEY (post_id, tag_id), KEY (tag_id))',
  "INSERT INTO author VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cid')",
  "INSERT INTO post VALUES (1, 'p1', 1), (2, 'p2', 1), (3, 'p3', 2), (4, 'q4', 2)",
  "INSERT INTO tag VALUES (1, 'one'), (2, 'two'), (3, 'three')",
  'INSERT INTO post_tags VALUES (1, 3), (1, 1), (2, 1), (3, 2)',
  'CREATE TABLE region (country CHAR(2) NOT NULL, code INT NOT NULL, name VARCHAR(50) NOT NULL, PRIMARY KEY (country, code))',
  'CREATE TABLE city (country CHAR(2) NOT NULL, code VARCHAR(3) NOT NULL, name VARCHAR(50) NOT NULL, region_code INT NULL, ' +
    'PRIMARY KEY (country, code), KEY (country, region_code))',
  "INSERT INTO region VALUES ('FR', 11, 'Ile-de-France'), ('DE', 11, 'Berlin'), ('IT', 12, 'Lazio')",
  "INSERT INTO city VALUES ('FR', 'PAR', 'Paris', 11), ('FR', 'MUC', 'Mucville', 11), ('DE', 'BER', 'Berlin', 11), ('DE', 'MUC', 'Muenchen', NULL)",
];

const T_COLUMNS = ['id', 'i', 'bi', 'r', 'd', 't', 'bo', 'dt', 'j', 'bl'] as const;
const EXPECTED_T = [
  {
    id: 1, i: 2147483647, bi: 9007199254740993n, r: 3.141592653589793, d: '12345678901234567890.0123456789', t: 'héllo 🎉', bo: true,
    dt: new Date('2024-02-29T12:34:56.789Z'), j: { a: 1, b: [true, null, 2.5], s: 'x😀' }, bl: Buffer.from([0x00, 0xff, 0x01, 0x10]),
  },
  {
    id: 2, i: -2147483648, bi: -9223372036854775808n, r: -0.5, d: '-0.0000000001', t: '', bo: false,
    dt: new Date('1970-01-01T00:00:00.001Z'), j: [1, 'two'], bl: Buffer.alloc(0),
  },
  {
    id: 3, i: 0, bi: 9223372036854775807n, r: 1e308, d: '0.0000000000', t: "quote ' and \\ backslash", bo: true,
    dt: new Date('9999-12-31T23:59:59.000Z'), j: 'str', bl: Buffer.from([0xff]),
  },
  { id: 4, i: null, bi: null, r: null, d: null, t: null, bo: null, dt: null, j: null, bl: null },
];

const BY_TITLE = { tag: 'by-title', params: ['p%'], sql: 'SELECT post.* FROM post WHERE title LIKE ? ORDER BY id DESC' };

/**
 * Everything the workload reads, as values (entities' fields, relations by their targets' keys), one
 * lookup at a time so the statements a driver runs do not depend on how writes happen to group.
 */
async function snapshot(view: View<S>) {
  const types = (await view.T.many([1, 2, 3, 4])).map((row: EntityOf<S, 'T'>) => Object.fromEntries(T_COLUMNS.map((c) => [c, row[c]])));
  const authors = await view.Author.many([1, 2, 3]);
  const posts: { id: number; title: string; author: string; tags: string[] }[] = [];
  for (const a of authors) {
    for (const p of await a.posts) {
      const author = await p.author;
      posts.push({ id: p.id, title: p.title, author: author.name, tags: (await p.tags).map((t) => t.label) });
    }
  }
  const regions: { name: string; cities: string[] }[] = [];
  for (const key of [['FR', 11], ['DE', 11], ['IT', 12]]) {
    const region = await view.Region(k(key));
    regions.push({ name: region.name, cities: (await region.cities).map((c) => `${c.country} ${c.code} ${c.name}`) });
  }
  const city = await view.City(k(['FR', 'MUC']));
  const cityRegion = (await city.region)?.name ?? null;
  const query = (await view.query('Post', BY_TITLE)).map((p) => p.id);
  return { types, posts, regions, cityRegion, query };
}
type Snapshot = Awaited<ReturnType<typeof snapshot>>;

const EXPECTED_REST: Omit<Snapshot, 'types'> = {
  posts: [
    { id: 1, title: 'p1', author: 'Ann', tags: ['one', 'three'] },
    { id: 2, title: 'p2', author: 'Ann', tags: ['one'] },
    { id: 3, title: 'p3', author: 'Bob', tags: ['two'] },
    { id: 4, title: 'q4', author: 'Bob', tags: [] },
  ],
  regions: [
    { name: 'Ile-de-France', cities: ['FR MUC Mucville', 'FR PAR Paris'] },
    { name: 'Berlin', cities: ['DE BER Berlin'] },
    { name: 'Lazio', cities: [] },
  ],
  cityRegion: 'Ile-de-France',
  query: [3, 2, 1],
};

/** Every value of every table of a cache file with its storage class (`quote()`), times and owners left out. */
async function fileContents(file: string): Promise<Record<string, string[]>> {
  const tables = await queryCacheFile<{ name: string }>(file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  const out: Record<string, string[]> = {};
  for (const { name } of tables) {
    const cols = (await queryCacheFile<{ name: string }>(file, `PRAGMA table_info("${name}")`)).map((c) => c.name).filter((c) => !['loaded_at', 'expires_at', 'owner', '_adbv_read_at'].includes(c));
    const exprs = cols.map((c) => `typeof("${c}") || ':' || quote("${c}")`).join(` || ' | ' || `);
    out[name] = (await queryCacheFile<{ v: string }>(file, `SELECT ${exprs} AS v FROM "${name}" ORDER BY 1`)).map((r) => r.v);
  }
  return out;
}

/** A cache statement as compared between drivers (a BEGIN/COMMIT's change count is node-sqlite3's last write's). */
function statement(e: QueryEvent): string {
  const rows = /^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(e.sql) ? '' : ` -> ${e.rows}`;
  return `${e.sql} [${e.params}]${rows}${e.error === undefined ? '' : ` ! ${e.error.message}`}`;
}

describe('cache drivers: sqlite3 and better-sqlite3 behave alike', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir('adbv-drivers-');
  const files: Partial<Record<SqliteDriver, string>> = {};
  const snapshots: Partial<Record<SqliteDriver, Snapshot>> = {};
  const statements: Partial<Record<SqliteDriver, { online: string[]; offline: string[]; counted: number[] }>> = {};
  before(async () => {
    db = await createTestDb(...TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  for (const driver of DRIVERS) {
    it(`${driver}: every column type, composite keys, relations, manyToMany and a custom query, from the origin, then OFFLINE after reopening`, async () => {
      const file = tmp.file(`${driver}.db`);
      files[driver] = file;
      const heard = { online: [] as string[], offline: [] as string[], counted: [] as number[] };
      // Statements are heard from the very first (createStore, listen, then open) to the last (after close).
      const onlineStore = createStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.FRESHEN });
      onlineStore.on('query', (e) => e.target === 'cache' && heard.online.push(statement(e)));
      let online: Snapshot;
      try {
        await onlineStore.open();
        await using view = onlineStore.view();
        online = await snapshot(view);
        assert.ok(onlineStore.stats.originQueries > 0);
      } finally {
        await onlineStore.close();
      }
      heard.counted.push(onlineStore.stats.cacheQueries);
      assert.deepStrictEqual(online.types, EXPECTED_T);
      assert.deepStrictEqual({ ...online, types: undefined }, { ...EXPECTED_REST, types: undefined });

      const offlineStore = createStore(schema, { origin: null, cache: sqliteCache(file, { driver }), mode: Mode.OFFLINE });
      offlineStore.on('query', (e) => e.target === 'cache' && heard.offline.push(statement(e)));
      let offline: Snapshot;
      try {
        await offlineStore.open();
        await using view = offlineStore.view();
        offline = await snapshot(view);
        assert.equal(offlineStore.stats.originQueries, 0);
      } finally {
        await offlineStore.close();
      }
      heard.counted.push(offlineStore.stats.cacheQueries);
      assert.deepStrictEqual(offline, online, 'OFFLINE after reopening: the values read from the origin, exactly');
      for (const row of offline.types) {
        if (row.bi !== null) assert.equal(typeof row.bi, 'bigint');
        if (row.bo !== null) assert.equal(typeof row.bo, 'boolean');
        if (row.dt !== null) assert.ok(row.dt instanceof Date);
        if (row.bl !== null) assert.ok(Buffer.isBuffer(row.bl));
      }
      assert.equal(heard.counted[0], heard.online.length, 'stats.cacheQueries counts every statement heard (online)');
      assert.equal(heard.counted[1], heard.offline.length, 'stats.cacheQueries counts every statement heard (offline)');
      assert.ok(heard.online.some((s) => s.startsWith('BEGIN IMMEDIATE')), 'writes ran in transactions');

      // The file opens through the other driver too, with the same answers.
      {
        await using store = await openStore(schema, { origin: null, cache: sqliteCache(file, { driver: other(driver) }), mode: Mode.OFFLINE });
        await using view = store.view();
        assert.deepStrictEqual(await snapshot(view), online, `a file written through ${driver}, read through ${other(driver)}`);
      }
      snapshots[driver] = offline;
      statements[driver] = heard;
    });
  }

  it('both drivers stored the same values with the same storage classes, and ran the same statements', async () => {
    const [a, b] = DRIVERS.map((d) => files[d]);
    assert.ok(a !== undefined && b !== undefined, 'both driver tests ran');
    assert.deepStrictEqual(snapshots['better-sqlite3'], snapshots.sqlite3);
    const [ca, cb] = [await fileContents(a), await fileContents(b)];
    assert.ok((ca.types_t?.length ?? 0) === 4 && (ca.post_tags?.length ?? 0) === 4, JSON.stringify(Object.keys(ca)));
    assert.deepStrictEqual(cb, ca);
    const [sa, sb] = DRIVERS.map((d) => statements[d]);
    assert.ok(sa !== undefined && sb !== undefined);
    assert.ok(sa.online.length > 20, `${sa.online.length} statements`);
    // The same statements; not in the same order: on node-sqlite3 the library's reads of a file go to a
    // connection of their own, so a read and a write of answers already given may finish in either order.
    // Nor in the same transactions: writes queued together commit together, and with no claims taken (a
    // store alone on its file) how many queue up at once depends on timing; each transaction adds its BEGIN,
    // its look at the file's users and its COMMIT. Claims, their releases and reads of the local-change
    // version too: a store alone on its file skips them on node-sqlite3 only, for now.
    const framing = /^(BEGIN IMMEDIATE|COMMIT|SELECT \(SELECT json_group_array\(json_array\(owner, pid\)\) FROM adbv_users|INSERT INTO adbv_fetching|DELETE FROM adbv_fetching|SELECT CAST\(fingerprint AS INTEGER\) AS v FROM adbv_meta WHERE name = 'local-version')/;
    const written = (list: readonly string[]) => list.filter((st) => !framing.test(st)).sort();
    assert.deepStrictEqual(written(sb.online), written(sa.online), 'the same cache statements, parameters and row counts online');
    assert.deepStrictEqual(sb.offline, sa.offline, 'the same cache statements offline');
    assert.deepStrictEqual(sb.counted[1], sa.counted[1], 'the same stats.cacheQueries offline');
  });

  for (const driver of DRIVERS) {
    it(`${driver}: store.cacheSql reads a cache file and an in-memory cache, and refuses every write`, async () => {
      for (const file of [files[driver] ?? tmp.file(`${driver}-sql.db`), ':memory:']) {
        await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.PREFER_CACHE });
        {
          await using view = store.view();
          await (await view.Author(1)).posts;
        }
        const [{ n } = { n: -1 }] = await store.cacheSql('SELECT COUNT(*) AS n FROM post WHERE author_id = ?', [1]);
        assert.equal(n, 2, file);
        for (const sql of ['DELETE FROM post', "INSERT INTO tag (id, label) VALUES (9, 'x')", 'CREATE TABLE z (id INTEGER)', 'DROP TABLE post', 'UPDATE ever_loaded SET loaded_at = 0']) {
          await assert.rejects(store.cacheSql(sql, []), /readonly|read-only|read only/i, `${file}: ${sql}`);
        }
        await assert.rejects(store.cacheSql("ATTACH DATABASE 'x.db' AS x", []), /read-only/);
        const [{ n: after } = { n: -1 }] = await store.cacheSql('SELECT COUNT(*) AS n FROM post WHERE author_id = ?', [1]);
        assert.equal(after, 2, `${file}: nothing was deleted`);
        // The store still writes its own rows afterwards.
        {
          await using view = store.view();
          await (await view.Author(2)).posts;
        }
        const [{ n: more } = { n: -1 }] = await store.cacheSql('SELECT COUNT(*) AS n FROM post', []);
        assert.equal(more, 4, file);
      }
    });

    it(`${driver}: caller SQL binds every kind of value, and numbered and named parameters, as node-sqlite3 does`, async () => {
      await using store = await openStore(schema, { origin: null, cache: sqliteCache(':memory:', { driver }) });
      const bind = async (value: unknown) => {
        const [row] = await store.cacheSql('SELECT typeof(?) AS t, ? AS v, ? / 2 AS half', [value, value, value]);
        return row;
      };
      const cases: [string, unknown, Record<string, unknown>][] = [
        ['a 32-bit integer: INTEGER, so it divides as one', 5, { t: 'integer', v: 5, half: 2 }],
        ['-0', -0, { t: 'integer', v: 0, half: 0 }],
        ['beyond 32 bits: REAL', 2 ** 31, { t: 'real', v: 2147483648, half: 1073741824 }],
        ['a fraction', 1.5, { t: 'real', v: 1.5, half: 0.75 }],
        ['NaN: NULL', NaN, { t: 'null', v: null, half: null }],
        ['true: 1', true, { t: 'integer', v: 1, half: 0 }],
        ['false: 0', false, { t: 'integer', v: 0, half: 0 }],
        ['null', null, { t: 'null', v: null, half: null }],
        ['undefined: NULL', undefined, { t: 'null', v: null, half: null }],
        ['a bigint: NULL, as node-sqlite3 binds it', 10n, { t: 'null', v: null, half: null }],
        ['a Date: its milliseconds, REAL', new Date(1_700_000_000_000), { t: 'real', v: 1_700_000_000_000, half: 850_000_000_000 }],
        ['a Buffer: a BLOB', Buffer.from('ab'), { t: 'blob', v: Buffer.from('ab'), half: 0 }],
        ['a RegExp: its text', /re/g, { t: 'text', v: '/re/g', half: 0 }],
        ['an object: [object Object]', { a: 1 }, { t: 'text', v: '[object Object]', half: 0 }],
        ['an array: [object Object]', [1, 2], { t: 'text', v: '[object Object]', half: 0 }],
        ['a string', 'héllo', { t: 'text', v: 'héllo', half: 0 }],
      ];
      for (const [what, value, want] of cases) assert.deepStrictEqual(await bind(value), want, what);

      const sql = (text: string, params: unknown[]) => store.cacheSql(text, params);
      assert.deepStrictEqual(await sql('SELECT ?2 AS b, ?1 AS a, :x AS x, ? AS anon, @y AS y, $z AS z, :x AS x2', [1, 2, 3, 4, 5, 6]), [{ b: 2, a: 1, x: 3, anon: 4, y: 5, z: 6, x2: 3 }]);
      assert.deepStrictEqual(await sql('SELECT ?1 AS a, ?3 AS c', [1, 2, 3]), [{ a: 1, c: 3 }], 'an unused number still takes its value');
      assert.deepStrictEqual(
        await sql("SELECT '?1 :y' AS lit, ? AS \"v?2\", 1 AS [w:z], 2 AS `u@v`, 3 AS x$y -- ?9 :z\n /* ?8 */", [7]),
        [{ lit: '?1 :y', 'v?2': 7, 'w:z': 1, 'u@v': 2, x$y: 3 }],
        'no parameter in literals, quoted names, words or comments',
      );
      assert.deepStrictEqual(await sql('SELECT ? AS a, ? AS b', [1]), [{ a: 1, b: null }], 'a missing value binds NULL');
      await assert.rejects(sql('SELECT ? AS a', [1, 2]), 'a value with no parameter is refused');
      await assert.rejects(sql('SELECT nope FROM nowhere', []), (e: Error) => e.message === 'SQLITE_ERROR: no such table: nowhere', 'errors read as node-sqlite3 writes them');
    });
  }

  it('the driver option is checked: a TypeError names the bad value and the drivers there are', () => {
    for (const bad of ['mysql', 'BETTER-SQLITE3', 'better_sqlite3', '', null, 3, true]) {
      assert.throws(
        () => sqliteCache(tmp.file('x.db'), { driver: bad as never }),
        (e: unknown) => e instanceof TypeError && /^sqliteCache: driver must be 'sqlite3' or 'better-sqlite3', got /.test(e.message) && e.message.endsWith(bad === '' || typeof bad === 'string' ? JSON.stringify(bad) : String(bad)),
        String(bad),
      );
    }
    assert.doesNotThrow(() => sqliteCache(tmp.file('x.db'), { driver: undefined }));
  });

  it('better-sqlite3 is loaded only once a store opens on it: not on import, not for sqlite3, not by sqliteCache()', () => {
    const path = fileURLToPath(new URL('./workers/driver-loading.js', import.meta.url));
    const run = spawnSync(process.execPath, [path], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), ['imported false', 'sqlite3 false', 'chosen false', 'opened true']);
  });
});

describe('cache drivers: stores and processes sharing one cache file', { skip }, () => {
  let db: TestDb;
  let truth: Truth;
  const tmp = tempDir('adbv-drivers-');
  before(async () => {
    db = await createTestDb(...treeTables(1200, 3, 0, 5));
    truth = await readTruth(db.admin);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  for (const driver of DRIVERS) {
    it(`${driver}: two stores opening one new file at the same moment, 200 times: both open (switching to WAL is retried)`, async () => {
      const failures: string[] = [];
      for (let i = 0; i < 200; i++) {
        const file = tmp.file(`open-${driver}-${i}.db`);
        const opened = await Promise.allSettled([0, 1].map(() => openStore(treeSchema, { origin: null, cache: sqliteCache(file, { driver }) })));
        for (const o of opened) {
          if (o.status === 'fulfilled') await o.value.close();
          else failures.push((o.reason as Error).message);
        }
      }
      assert.deepEqual(failures, []);
    });
  }

  it('two stores on better-sqlite3, one file, one process, 10 views each at once: no cache statement fails, right answers', async () => {
    // Each waits for the other's transaction without blocking the thread the other needs to commit.
    const file = tmp.file('one-process.db');
    const stores = await Promise.all(
      [0, 1].map(() => openStore(treeSchema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver: 'better-sqlite3', busyTimeoutMs: 1000 }), mode: Mode.PREFER_CACHE })),
    );
    const cacheErrors: string[] = [];
    for (const store of stores) store.on('query', (e) => e.target === 'cache' && e.error !== undefined && cacheErrors.push(`${e.error.message} in ${e.sql.slice(0, 40)}`));
    const failures: string[] = [];
    const keys = Array.from({ length: 1200 }, (_, i) => i + 1);
    try {
      await Promise.all(
        stores.flatMap((store, s) =>
          Array.from({ length: 10 }, async (_, v) => {
            await using view = store.view();
            try {
              const mine = shuffle(keys, rng(s + 1)).slice(v * 120, (v + 1) * 120);
              const as = await view.A.many(mine);
              const bss = await Promise.all(as.map((a) => a.bs));
              as.forEach((a, i) => {
                assert.equal(a.name, truth.aName.get(mine[i] as number));
                assert.deepEqual(bss[i]?.map((b) => b.id), truth.bsOf.get(a.id) ?? []);
              });
            } catch (error) {
              failures.push(`store ${s} view ${v}: ${(error as Error).message}`);
            }
          }),
        ),
      );
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
    assert.deepEqual({ failures: failures.slice(0, 3), cacheErrors: cacheErrors.slice(0, 3) }, { failures: [], cacheErrors: [] });
    const [{ n } = { n: -1 }] = await queryCacheFile<{ n: number }>(file, "SELECT COUNT(*) AS n FROM ever_loaded WHERE kind = 'A.bs'");
    assert.equal(n, 1200);
  });

  for (const pair of [['better-sqlite3', 'better-sqlite3'], ['sqlite3', 'better-sqlite3']] as const) {
    it(`two processes on ${pair.join(' and ')}, 600 A keys + their bs each (half shared), at once: right answers, each lookup fetched once, WAL, no claim left`, async () => {
      const file = tmp.file(`${pair.join('-')}.db`);
      const shared = Array.from({ length: 300 }, (_, i) => i + 1);
      const keysOf = (w: number) => [...shared, ...Array.from({ length: 300 }, (_, i) => 301 + w * 300 + i)];
      const workers = pair.map((driver, w) =>
        startWorker('lookups.js', { url: db.url, file, keys: keysOf(w), views: 10, seed: w + 1, claimMs: 10_000 }, { ADBV_TEST_CACHE_DRIVER: driver }),
      );
      await Promise.all(workers.map((w) => w.line('ready')));
      for (const w of workers) w.child.stdin!.write('go\n');
      const results = await Promise.all(workers.map(async (w) => JSON.parse(await w.line('result')) as WorkerResult));
      const exits = await Promise.all(workers.map((w) => w.exited));
      assert.deepEqual(exits.map((e) => e.code), [0, 0], exits.map((e) => e.stderr).join('\n'));
      assert.deepEqual(results.map((r) => r.drivers.includes('better-sqlite3')), pair.map((d) => d === 'better-sqlite3'), 'each worker ran on its driver');
      assert.deepEqual(results.flatMap((r) => [...r.errors, ...r.cacheErrors]), []);
      for (const [w, r] of results.entries()) {
        for (const id of keysOf(w)) {
          const want = truth.aName.has(id) ? [truth.aName.get(id), (truth.bsOf.get(id) ?? []).map((b) => [b, truth.bName.get(b), id])] : null;
          assert.deepEqual(r.answers[id], want, `worker ${w}, A ${id}`);
        }
      }
      const distinct = new Set([...keysOf(0), ...keysOf(1)]);
      const sentA = results.reduce((s, r) => s + (r.sent.A ?? 0), 0);
      const sentABs = results.reduce((s, r) => s + (r.sent['A.bs'] ?? 0), 0);
      assert.equal(sentA, distinct.size, 'each A lookup fetched by one process only');
      assert.equal(sentABs, [...distinct].filter((id) => truth.aName.has(id)).length, 'each A.bs lookup fetched by one process only');
      assert.deepEqual(await queryCacheFile(file, 'PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
      assert.deepEqual(await queryCacheFile(file, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
      assert.deepEqual(await queryCacheFile(file, 'SELECT * FROM adbv_fetching'), [], 'every claim was released');
      const [{ n } = { n: -1 }] = await queryCacheFile<{ n: number }>(file, "SELECT COUNT(*) AS n FROM ever_loaded WHERE kind = 'A'");
      assert.equal(n, distinct.size);
    });
  }
});
