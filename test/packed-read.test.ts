// Cache reads packed as one JSON text (entities without REAL or BLOB columns) give every value exactly as the origin did, entity and relation lookups, on both drivers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { belongsTo, defineSchema, entity, hasMany, manyToMany, Mode, mysqlOrigin, openStore, sqliteCache, type SqliteDriver } from 'asyncdbview';
import { queryCacheFile } from './helpers/cache-file.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

// No REAL, no BLOB: every read of these entities is packed.
const schema = defineSchema({
  P: entity({ table: 'p', key: 'id', columns: { id: 'integer', label: 'text' }, relations: { vs: hasMany('V', 'p_id'), tags: manyToMany('T', { through: 'p_t', sourceKey: 'p_id', targetKey: 't_id' }) } }),
  V: entity({
    table: 'v', key: 'id',
    columns: { id: 'integer', p_id: 'integer', t: 'text?', big: 'bigint?', dec: 'decimal?', flag: 'boolean?', at: 'datetime?', doc: 'json?', n: 'integer?' },
    relations: { p: belongsTo('P', 'p_id') },
  }),
  T: entity({ table: 't', key: 'code', columns: { code: 'bigint', name: 'text' }, relations: {} }),
});

/** Text JSON must escape, and text it must not mangle. */
const TEXTS = [
  'plain', '', ' ', 'quote " and \\ backslash', 'nul\u0000inside', 'tab\tnew\nline\rcr', '\u0001\u001f\u007f', 'é ü ß', '日本語', '😀 astral 𝄞',
  '{"looks":"like json"}', '[1,2]', 'null', '123', '-0', '1e400', 'x'.repeat(5000), '\u2028\u2029', '</script>',
];

describe('packed cache reads', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    const vs = TEXTS.map((t, i) => {
      const id = i + 1;
      const big = ['9007199254740993', '-9223372036854775808', '18446744073709551615', '0', null][i % 5];
      const dec = ['0.10', '-12345678901234567890.123456789', '7', null][i % 4];
      const flag = [1, 0, null][i % 3];
      const at = ["'2024-02-29 23:59:59.123'", "'1970-01-01 00:00:00'", 'NULL'][i % 3];
      const doc = [`'{"a": [1, 2.5, null], "b": "\\\\u0000"}'`, "'-0'", "'1e308'", 'NULL'][i % 4];
      const n = [9007199254740991, -9007199254740991, 0, null][i % 4];
      const sqlText = `'${t.replaceAll('\\', '\\\\').replaceAll("'", "''").replaceAll('\u0000', '\\0')}'`;
      return `(${id}, ${(i % 3) + 1}, ${sqlText}, ${big ?? 'NULL'}, ${dec ?? 'NULL'}, ${flag ?? 'NULL'}, ${at}, ${doc}, ${n ?? 'NULL'})`;
    });
    db = await createTestDb(
      'CREATE TABLE p (id INT PRIMARY KEY, label VARCHAR(100) NOT NULL)',
      'CREATE TABLE v (id INT PRIMARY KEY, p_id INT NOT NULL, t TEXT NULL, big DECIMAL(20,0) NULL, `dec` DECIMAL(40,9) NULL, flag TINYINT(1) NULL, at DATETIME(3) NULL, doc JSON NULL, n BIGINT NULL, KEY (p_id)) CHARACTER SET utf8mb4',
      'CREATE TABLE t (code BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(100) NOT NULL)',
      'CREATE TABLE p_t (p_id INT NOT NULL, t_id BIGINT UNSIGNED NOT NULL, PRIMARY KEY (p_id, t_id))',
      "INSERT INTO p VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'none')",
      `INSERT INTO v VALUES ${vs.join(', ')}`,
      "INSERT INTO t VALUES (18446744073709551615, 'max'), (9007199254740993, 'past 2^53'), (1, 'one')",
      'INSERT INTO p_t VALUES (1, 18446744073709551615), (1, 9007199254740993), (2, 1)',
    );
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  for (const driver of DRIVERS) {
    it(`${driver}: every value of entity and relation lookups offline is the origin's, the relations in their order`, async () => {
      const file = tmp.file(`packed-${driver}.db`);
      const ids = TEXTS.map((_, i) => i + 1);
      const snapshot = async (mode: Mode, origin: boolean) => {
        await using store = await openStore(schema, { origin: origin ? mysqlOrigin(db.url) : null, cache: sqliteCache(file, { driver }), mode });
        await using view = store.view();
        const vs = await view.V.many(ids);
        const ps = await view.P.many([1, 2, 3, 4]);
        const groups = await Promise.all(ps.map((p) => p.vs));
        const tags = await Promise.all(ps.map((p) => p.tags));
        const out = {
          vs: vs.map((v) => ({ id: v.id, p_id: v.p_id, t: v.t, big: v.big, dec: v.dec, flag: v.flag, at: v.at === null ? null : v.at.toISOString(), doc: v.doc, n: v.n })),
          groups: groups.map((g) => g.map((v) => [v.id, v.t])),
          tags: tags.map((g) => g.map((t) => [t.code, t.name])),
          parents: await Promise.all(vs.map(async (v) => (await v.p).label)),
        };
        if (origin) await store.flush();
        return out;
      };
      const online = await snapshot(Mode.FRESHEN, true);
      const offline = await snapshot(Mode.OFFLINE, false);
      assert.deepEqual(offline, online);
      // The values are the origin's exactly: spot checks of what JSON would most easily lose.
      const byId = new Map(online.vs.map((v) => [v.id, v]));
      assert.equal(byId.get(TEXTS.indexOf('nul\u0000inside') + 1)?.t, 'nul\u0000inside');
      assert.equal(byId.get(TEXTS.indexOf('😀 astral 𝄞') + 1)?.t, '😀 astral 𝄞');
      assert.equal(byId.get(1)?.big, 9007199254740993n);
      assert.equal(byId.get(2)?.dec, '-12345678901234567890.123456789');
      assert.deepEqual(online.tags[0], [[9007199254740993n, 'past 2^53'], [18446744073709551615n, 'max']]);
      assert.deepEqual(online.groups[3], []);
      // The file's rows are what the packed reads read (one JSON text per statement).
      const [{ n } = { n: -1 }] = await queryCacheFile<{ n: number }>(file, 'SELECT count(*) AS n FROM v');
      assert.equal(n, TEXTS.length);
    });
  }
});
