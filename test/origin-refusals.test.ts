// Results the library cannot map exactly are refused before anything is written: wrong declared types, duplicate columns.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  defineSchema, entity, hasMany, IsOfflineError, Mode, mysqlOrigin, openStore, OriginError, SchemaError, sqliteOrigin, type ColumnSpec,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

const TABLES = [
  'CREATE TABLE mp (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  `CREATE TABLE m (id INT PRIMARY KEY, mp_id INT NOT NULL, vc VARCHAR(20) NULL, i INT NULL, de DECIMAL(10,2) NULL, bi BIGINT NULL, t4 TINYINT NULL, KEY (mp_id))`,
  "INSERT INTO mp VALUES (1, 'parent')",
  "INSERT INTO m VALUES (1, 1, '2024-01-01', 7, 1.50, 5, 2), (2, 1, '{}', 8, 2.25, 9007199254740993, 0)",
];

/** M with `column` declared as `declared` (every other column declared right). */
function schemaWith(column: string, declared: ColumnSpec) {
  const columns: Record<string, ColumnSpec> = { id: 'integer', mp_id: 'integer', vc: 'text?', i: 'integer?', de: 'decimal?', bi: 'bigint?', t4: 'integer?' };
  columns[column] = declared;
  return defineSchema({
    MP: entity({ table: 'mp', key: 'id', columns: { id: 'integer', name: 'text' }, relations: { ms: hasMany('M', 'mp_id') } }),
    M: entity({ table: 'm', key: 'id', columns, relations: {} }),
  });
}

/** Each declared type the origin column cannot give, and how the check names that column. */
const WRONG: readonly { column: string; declared: ColumnSpec; actual: string }[] = [
  { column: 'vc', declared: 'datetime?', actual: 'VARCHAR' },
  { column: 'vc', declared: 'json?', actual: 'VARCHAR' },
  { column: 'i', declared: 'text?', actual: 'INT' },
  { column: 'de', declared: 'real?', actual: 'DECIMAL(10,2)' },
  { column: 't4', declared: 'boolean?', actual: 'TINYINT(4)' },
  { column: 'i', declared: 'datetime', actual: 'INT' },
  { column: 'vc', declared: 'blob?', actual: 'VARCHAR' },
];

/** The four ways rows of M first reach the store. */
type Path = 'entity' | 'relation' | 'tree' | 'query';
const PATHS: readonly Path[] = ['entity', 'relation', 'tree', 'query'];

function assertRefused(error: unknown, names: readonly string[], kind: typeof SchemaError | typeof TypeError): true {
  assert.ok(error instanceof kind, `expected a ${kind.name}, got ${String(error)}`);
  assert.ok(!(error instanceof OriginError), 'not wrapped as an OriginError');
  for (const n of names) assert.ok((error as Error).message.includes(n), `${JSON.stringify((error as Error).message)} names ${JSON.stringify(n)}`);
  return true;
}

describe('results the library cannot map are refused, nothing written', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  let n = 0;
  before(async () => {
    db = await createTestDb(...TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  /** Rows and marks of M (and the query's) in a cache file. */
  async function written(file: string): Promise<{ rows: number; marks: number }> {
    const [rows] = await queryCacheFile<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM m');
    const [marks] = await queryCacheFile<{ n: number }>(file, "SELECT COUNT(*) AS n FROM ever_loaded WHERE kind IN ('M', 'MP.ms') OR kind LIKE 'q:%'");
    return { rows: Number(rows?.n), marks: Number(marks?.n) };
  }

  it('a declared type the origin column cannot give is a SchemaError naming entity, column, declared and actual type, on every first-contact path, in every mode', async () => {
    let refusals = 0;
    for (const { column, declared, actual } of WRONG) {
      const schema = schemaWith(column, declared);
      for (const path of PATHS) {
        for (const mode of [Mode.FRESHEN, Mode.PREFER_CACHE, Mode.OFFLINE_FALLBACK]) {
          const file = tmp.file(`refuse-${++n}.db`);
          {
            await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode });
            await using view = store.view();
            const load = () => {
              switch (path) {
                case 'entity': return view.M(1);
                case 'relation': return view.MP(1).then((p) => p.ms);
                case 'tree': return view.MP.many([1], { include: { ms: true } });
                case 'query': return view.query('M', { tag: 'all', sql: 'SELECT * FROM m ORDER BY id', params: [] });
              }
            };
            const where = `${declared} on ${column} via ${path} in ${mode}`;
            await assert.rejects(load(), (e) => assertRefused(e, ['M', `.${column}`, `'${declared.replace('?', '')}'`, actual], SchemaError), where);
            // Not remembered as checked: the next read is refused again.
            await assert.rejects(load(), (e) => assertRefused(e, [`.${column}`], SchemaError), `${where}, again`);
            refusals += 2;
          }
          assert.deepEqual(await written(file), { rows: 0, marks: 0 }, `${declared} on ${column} via ${path} in ${mode}: nothing of M written`);
        }
      }
    }
    assert.equal(refusals, WRONG.length * PATHS.length * 3 * 2);
  });

  it("a BIGINT declared 'integer' reads values within ±(2^53−1); one beyond is a SchemaError naming it, and nothing of that read is written", async () => {
    const schema = schemaWith('bi', 'integer?');
    const file = tmp.file(`bigint-${++n}.db`);
    {
      await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      const m1 = await view.M(1);
      assert.equal(m1.bi, 5);
      await assert.rejects(view.M(2), (e) => assertRefused(e, ['M.bi', "'integer'", 'BIGINT', '9007199254740993', "'bigint'"], SchemaError));
    }
    const [rows] = await queryCacheFile<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM m WHERE id = 2');
    assert.equal(Number(rows?.n), 0);
    await using offline = await openStore(schema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    assert.equal((await view.M(1)).bi, 5);
    await assert.rejects(view.M(2), IsOfflineError);
  });

  it('a custom query whose result names a column twice (SELECT * over a JOIN) is a TypeError naming the duplicates, even when empty; nothing written', async () => {
    await db.exec('ALTER TABLE m ADD COLUMN name VARCHAR(20) NULL', "UPDATE m SET name = CONCAT('m', id)");
    try {
      const withName = defineSchema({
        M: entity({ table: 'm', key: 'id', columns: { id: 'integer', name: 'text?', mp_id: 'integer' }, relations: {} }),
      });
      for (const mode of [Mode.FRESHEN, Mode.PREFER_CACHE, Mode.OFFLINE_FALLBACK]) {
        const file = tmp.file(`dup-${++n}.db`);
        {
          await using store = await openStore(withName, { origin: mysqlOrigin(db.url), cache: testCache(file), mode });
          await using view = store.view();
          const sql = 'SELECT * FROM m JOIN mp ON mp.id = m.mp_id WHERE m.mp_id = ? ORDER BY m.id';
          for (const params of [[1], [999]]) {
            await assert.rejects(view.query('M', { tag: 'joined', sql, params }), (e) => assertRefused(e, ['"id"', '"name"', 'duplicate'], TypeError), `${mode} ${params}`);
          }
          // Selecting each column once works, and the entity keeps its own name.
          const ok = await view.query('M', { tag: 'aliased', sql: 'SELECT m.*, mp.name AS mp_name FROM m JOIN mp ON mp.id = m.mp_id WHERE m.mp_id = ? ORDER BY m.id', params: [1] });
          assert.deepEqual(ok.map((m) => m.name), ['m1', 'm2']);
        }
        const [joined] = await queryCacheFile<{ n: number }>(file, "SELECT COUNT(*) AS n FROM ever_loaded WHERE kind = 'q:joined'");
        assert.equal(Number(joined?.n), 0, `${mode}: no mark for the refused query`);
        const names = await queryCacheFile<{ name: string }>(file, 'SELECT name FROM m ORDER BY id');
        assert.deepEqual(names.map((r) => r.name), ['m1', 'm2'], `${mode}: the cached names are the entity's, never the joined table's`);
      }
    } finally {
      await db.exec('ALTER TABLE m DROP COLUMN name');
    }
  });

  it('the SQLite origin refuses duplicate columns the same way (node-sqlite3 folds them; the statement\'s own width tells)', async () => {
    const origin = tmp.file(`origin-${++n}.db`);
    const o = await openSqlite(origin);
    await o.exec(
      "CREATE TABLE mp (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE TABLE m (id INTEGER PRIMARY KEY, mp_id INTEGER NOT NULL, name TEXT); " +
        "INSERT INTO mp VALUES (1, 'parent'); INSERT INTO m VALUES (1, 1, 'm1'), (2, 1, 'm2');",
    );
    await o.close();
    const schema = defineSchema({ M: entity({ table: 'm', key: 'id', columns: { id: 'integer', mp_id: 'integer', name: 'text?' }, relations: {} }) });
    const file = tmp.file(`sqlite-dup-${++n}.db`);
    {
      await using store = await openStore(schema, { origin: sqliteOrigin(origin), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      await assert.rejects(
        view.query('M', { tag: 'joined', sql: 'SELECT * FROM m JOIN mp ON mp.id = m.mp_id WHERE m.mp_id = ? ORDER BY m.id;', params: [1] }),
        (e) => assertRefused(e, ['"id"', '"name"', 'duplicate'], TypeError),
      );
      // A compound SELECT and a column named like SQLite's own renaming ("name:1") are not duplicates.
      const fine = await view.query('M', { tag: 'union', sql: 'SELECT id, mp_id, name, 0 AS "name:1" FROM m WHERE id = 1 UNION ALL SELECT id, mp_id, name, 1 FROM m WHERE id = 2', params: [] });
      assert.deepEqual(fine.map((m) => m.name), ['m1', 'm2']);
    }
    const marks = await queryCacheFile<{ kind: string }>(file, "SELECT kind FROM ever_loaded WHERE kind LIKE 'q:%' ORDER BY kind");
    assert.deepEqual(marks.map((r) => r.kind), ['q:union']);
  });
});
