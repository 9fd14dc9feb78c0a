// Cache reads packed as one JSON text (entities without REAL or BLOB columns) give every value exactly as the origin did, entity and relation lookups, on both drivers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { Mode, type SqliteDriver } from 'asyncdbview';
import { snapshot, toJson } from './helpers/packed-read-snapshot.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

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
      const online = await snapshot(file, driver, Mode.FRESHEN, db.url, ids);
      const offline = await snapshot(file, driver, Mode.OFFLINE, null, ids);
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
      // Where code generation from strings is refused, rows are built without it: the same answers.
      const helper = new URL('./helpers/packed-read-snapshot.js', import.meta.url).href;
      const script = `const m = await import(${JSON.stringify(helper)}); process.stdout.write(m.toJson(await m.snapshot(${JSON.stringify(file)}, ${JSON.stringify(driver)}, ${JSON.stringify(Mode.OFFLINE)}, null, ${JSON.stringify(ids)})));`;
      const child = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60000 });
      assert.equal(child.status, 0, child.stderr);
      assert.equal(child.stdout, toJson(offline));
    });
  }
});
