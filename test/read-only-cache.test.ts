/**
 * Caller SQL on SQLite (store.cacheSql, and sqliteOrigin's raw and query) runs only if it is exactly one read:
 * ATTACH, DETACH, VACUUM, PRAGMA, load_extension(), writes of any kind and second statements are refused
 * before anything is sent, comments and whitespace anywhere; no file appears, and the cache answers offline
 * exactly as before. Behind the check, the connection caller SQL runs on cannot attach or create a file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Mode, openStore, RefusedSqlError, sqliteCache, sqliteOrigin, type SqliteDriver, type Store } from 'asyncdbview';
import { abSchema } from './helpers/ab-schema.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

type AbStore = Store<(typeof abSchema)['entities']>;

const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

const AB_TABLES_SQLITE = `
  CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE b (id INTEGER PRIMARY KEY, name TEXT NOT NULL, a_id INTEGER NOT NULL);
  INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3');
  INSERT INTO b VALUES (1, 'b1', 1), (2, 'b2', 1), (3, 'b3', 1), (4, 'b4', 2);`;

/** Hostile SQL for SQLite; `evil` is a folder that must stay empty. `refused` is what the error must name. */
function hostile(evil: string): readonly { sql: string; refused: RegExp }[] {
  const at = (name: string) => join(evil, name);
  return [
    { sql: `/**/ ATTACH DATABASE '${at('attach-1.db')}' AS x`, refused: /^an ATTACH statement$/ },
    { sql: `ATTACH '${at('attach-2.db')}' AS x`, refused: /^an ATTACH statement$/ },
    { sql: `-- hello\nATTACH 'file:${at('attach-3.db')}?mode=rwc' AS x`, refused: /^an ATTACH statement$/ },
    { sql: `SELECT 1; ATTACH '${at('attach-4.db')}' AS x`, refused: /^a second statement after ';'$/ },
    { sql: 'DETACH DATABASE main', refused: /^a DETACH statement$/ },
    { sql: '/**/ PRAGMA writable_schema=ON', refused: /^a PRAGMA statement$/ },
    { sql: 'PRAGMA query_only = OFF', refused: /^a PRAGMA statement$/ },
    { sql: 'PRAGMA user_version = 7', refused: /^a PRAGMA statement$/ },
    { sql: '  /* a */ -- b\n  pragma journal_mode = DELETE', refused: /^a PRAGMA statement$/ },
    { sql: `VACUUM INTO '${at('vacuum-1.db')}'`, refused: /^a VACUUM statement$/ },
    { sql: `/* x */ VACUUM main INTO '${at('vacuum-2.db')}'`, refused: /^a VACUUM statement$/ },
    { sql: 'VACUUM', refused: /^a VACUUM statement$/ },
    { sql: `SELECT 1 /* ; */; VACUUM INTO '${at('vacuum-3.db')}'`, refused: /^a second statement after ';'$/ },
    { sql: `SELECT load_extension('${at('ext-1')}')`, refused: /^a call of load_extension\(\)/ },
    { sql: `SELECT "load_extension"('${at('ext-2')}')`, refused: /^a call of load_extension\(\)/ },
    { sql: `SELECT * FROM a WHERE LOAD_EXTENSION /* x */ ('${at('ext-3')}') IS NULL`, refused: /^a call of load_extension\(\)/ },
    { sql: "INSERT INTO b (id, name, a_id) VALUES (9, 'x', 1)", refused: /^an INSERT statement$/ },
    { sql: "UPDATE a SET name = 'hacked'", refused: /^an UPDATE statement$/ },
    { sql: 'DELETE FROM ever_loaded', refused: /^a DELETE statement$/ },
    { sql: 'UPDATE ever_loaded SET loaded_at = 0', refused: /^an UPDATE statement$/ },
    { sql: 'DELETE FROM b RETURNING *', refused: /^a DELETE statement$/ },
    { sql: "REPLACE INTO a (id, name) VALUES (1, 'hacked')", refused: /^a REPLACE statement$/ },
    { sql: "INSERT OR REPLACE INTO a (id, name) VALUES (1, 'hacked')", refused: /^an INSERT statement$/ },
    { sql: '-- just a comment\nDELETE FROM b', refused: /^a DELETE statement$/ },
    { sql: 'CREATE TABLE z (id INTEGER)', refused: /^a CREATE statement$/ },
    { sql: 'CREATE TEMP TABLE z (id INTEGER)', refused: /^a CREATE statement$/ },
    { sql: 'CREATE VIEW v AS SELECT 1', refused: /^a CREATE statement$/ },
    { sql: 'CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END', refused: /^a second statement after ';'$/ },
    { sql: 'DROP TABLE b', refused: /^a DROP statement$/ },
    { sql: 'ALTER TABLE a ADD COLUMN z INTEGER', refused: /^an ALTER statement$/ },
    { sql: 'SELECT 1; DELETE FROM b', refused: /^a second statement after ';'$/ },
    { sql: 'WITH t AS (SELECT 1) DELETE FROM b', refused: /^WITH … before a DELETE statement$/ },
    { sql: "WITH t AS (SELECT 1) INSERT INTO b SELECT 9, 'x', 1", refused: /^WITH … before an INSERT statement$/ },
    { sql: 'REINDEX', refused: /^a REINDEX statement$/ },
    { sql: 'ANALYZE', refused: /^an ANALYZE statement$/ },
    { sql: 'BEGIN IMMEDIATE', refused: /^a BEGIN statement$/ },
    { sql: 'SAVEPOINT s', refused: /^a SAVEPOINT statement$/ },
    { sql: 'EXPLAIN DELETE FROM b', refused: /^(EXPLAIN of a DELETE statement|an EXPLAIN statement)$/ },
    { sql: '  /* nothing but a comment */ -- and another', refused: /^an empty statement/ },
    { sql: 'SELECT 1\u0000; DROP TABLE b', refused: /^a NUL character$/ },
  ];
}

/** Plain reads that still run (on a cache holding A 1, 2 and B 1..4), with their rows. */
const READS: readonly { sql: string; params?: unknown[]; rows: unknown[]; cacheOnly?: boolean }[] = [
  { sql: 'SELECT id, name FROM a WHERE id = ?', params: [1], rows: [{ id: 1, name: 'a1' }] },
  { sql: 'WITH t AS (SELECT id, name FROM a WHERE id <= ?) SELECT id, name FROM t ORDER BY id', params: [2], rows: [{ id: 1, name: 'a1' }, { id: 2, name: 'a2' }] },
  { sql: 'SELECT id, name FROM a WHERE id IN (SELECT a_id FROM b WHERE name <> ?) ORDER BY id', params: ['b4'], rows: [{ id: 1, name: 'a1' }] },
  { sql: "SELECT id, name FROM a WHERE name <> 'x; ATTACH ''y'' AS z; VACUUM' AND id = 2", rows: [{ id: 2, name: 'a2' }] },
  { sql: 'SELECT "id", [name] FROM `a` WHERE id = 1 /* ; DELETE FROM b */ -- ; PRAGMA query_only = OFF', rows: [{ id: 1, name: 'a1' }] },
  { sql: 'SELECT id, name FROM a WHERE id = 1;', rows: [{ id: 1, name: 'a1' }] },
  { sql: "SELECT COUNT(*) AS \"load_extension\", 'it''s' AS q FROM b", rows: [{ load_extension: 4, q: "it's" }], cacheOnly: true },
  { sql: "SELECT name FROM pragma_table_info('b') ORDER BY cid", rows: [{ name: 'id' }, { name: 'name' }, { name: 'a_id' }, { name: '_adbv_read_at' }], cacheOnly: true },
  { sql: 'VALUES (1, 2)', rows: [{ column1: 1, column2: 2 }], cacheOnly: true },
];

describe('caller SQL on SQLite: one read or nothing sent, and no file appears', () => {
  const tmp = tempDir();
  const originFile = tmp.file('origin.db');
  const evil = tmp.file('evil');
  const HOSTILE = hostile(evil);
  let n = 0;
  before(async () => {
    mkdirSync(evil);
    const origin = await openSqlite(originFile);
    await origin.exec(AB_TABLES_SQLITE);
    await origin.close();
  });
  after(() => tmp.remove());

  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  /** What caller SQL could have changed in the cache, and what it answers offline. */
  async function cacheState(store: AbStore): Promise<unknown> {
    const view = store.view({ mode: Mode.OFFLINE });
    const a1 = await view.A(1);
    const offline = {
      a1: a1.name,
      bs: (await a1.bs).map((b) => [b.id, b.name]),
      a2bs: (await (await view.A(2)).bs).map((b) => b.id),
      query: (await view.query('B', { tag: 'bs-desc', params: [1], sql: 'SELECT * FROM b WHERE a_id = ? ORDER BY id DESC' })).map((b) => b.id),
    };
    view.close();
    return {
      offline,
      schema: await store.cacheSql('SELECT type, name, sql FROM sqlite_master ORDER BY name'),
      a: await store.cacheSql('SELECT * FROM a ORDER BY id'),
      b: await store.cacheSql('SELECT * FROM b ORDER BY id'),
      marks: await store.cacheSql('SELECT * FROM ever_loaded ORDER BY kind, key'),
      version: await store.cacheSql('SELECT * FROM pragma_user_version'),
      evil: readdirSync(evil),
    };
  }

  for (const driver of DRIVERS) {
    for (const where of ['a cache file', 'an in-memory cache'] as const) {
      it(`cacheSql × ${driver} × ${where}: every hostile statement is refused, no file appears, the cache answers as before`, async (t: TestContext) => {
        const file = where === 'a cache file' ? tmp.file(`cache-${++n}.db`) : ':memory:';
        await using store = await openStore(abSchema, { origin: sqliteOrigin(originFile), cache: sqliteCache(file, { driver }), mode: Mode.FRESHEN });
        {
          await using view = store.view();
          await (await view.A(1)).bs;
          await (await view.A(2)).bs;
          await view.query('B', { tag: 'bs-desc', params: [1], sql: 'SELECT * FROM b WHERE a_id = ? ORDER BY id DESC' });
        }
        const initial = await cacheState(store);
        const files = file === ':memory:' ? [] : readdirSync(dirname(file)).sort();
        const sent: string[] = [];
        store.on('query', (e) => sent.push(e.sql));
        for (const { sql, refused } of HOSTILE) {
          sent.length = 0;
          const error = await store.cacheSql(sql).then(() => undefined, (e: unknown) => e);
          assert.ok(error instanceof RefusedSqlError, `${sql}: refused with a RefusedSqlError, got ${String(error)}`);
          assert.equal(error.entry, 'cacheSql');
          assert.equal(error.sql, sql);
          assert.match(error.refused, refused, sql);
          assert.match(error.message, /read-only/);
          assert.deepEqual(sent, [], `${sql}: no statement was sent to the cache`);
          assert.deepEqual(readdirSync(evil), [], `${sql}: no file appeared`);
        }
        store.removeAllListeners('query');
        assert.deepEqual(await cacheState(store), initial, 'the cache holds and answers exactly what it did');
        if (file !== ':memory:') assert.deepEqual(readdirSync(dirname(file)).sort(), files, 'no file appeared beside the cache');
        for (const read of READS) {
          assert.deepEqual((await store.cacheSql(read.sql, read.params ?? [])).map((r) => ({ ...r })), read.rows, read.sql);
        }
        // The cache still takes writes of its own: nothing caller SQL did stuck to its connection.
        {
          await using view = store.view();
          assert.deepEqual((await (await view.A(3)).bs).map((b) => b.id), []);
          assert.equal((await view.B(4)).name, 'b4');
        }
        assert.deepEqual((await store.cacheSql('SELECT id FROM a ORDER BY id')).map((r) => r.id), [1, 2, 3]);
        t.diagnostic(`cacheSql × ${driver} × ${where}: ${HOSTILE.length} hostile statements tried, ${HOSTILE.length} refused before sending, nothing changed`);
      });
    }
  }

  it('sqliteOrigin: raw and query refuse every hostile statement; the origin file is unchanged, no file appears', async (t: TestContext) => {
    const before = sha(originFile);
    await using store = await openStore(abSchema, { origin: sqliteOrigin(originFile), cache: sqliteCache(tmp.file(`o-${++n}.db`)), mode: Mode.FRESHEN });
    for (const entry of ['raw', 'query'] as const) {
      for (const { sql, refused } of HOSTILE) {
        const view = store.view();
        const originQueries = store.stats.originQueries;
        const error = await (entry === 'raw' ? view.raw(sql) : view.query('A', { tag: `h${++n}`, sql, params: [] })).then(() => undefined, (e: unknown) => e);
        view.close();
        assert.ok(error instanceof RefusedSqlError, `${entry} ${sql}: refused with a RefusedSqlError, got ${String(error)}`);
        assert.equal(error.entry, entry);
        assert.match(error.refused, refused, `${entry} ${sql}`);
        assert.equal(store.stats.originQueries, originQueries, `${entry} ${sql}: no origin statement`);
        assert.deepEqual(readdirSync(evil), [], `${entry} ${sql}: no file appeared`);
      }
      t.diagnostic(`${entry} × sqliteOrigin: ${HOSTILE.length} hostile statements tried, ${HOSTILE.length} refused before sending, nothing changed`);
    }
    await using view = store.view();
    for (const read of READS.filter((r) => r.cacheOnly !== true)) {
      assert.deepEqual((await view.raw(read.sql, read.params ?? [])).map((r) => ({ ...r })), read.rows, `raw ${read.sql}`);
      const rows = await view.query('A', { tag: `r${++n}`, sql: read.sql, params: read.params ?? [] });
      assert.deepEqual(rows.map((a) => ({ id: a.id, name: a.name })), read.rows, `query ${read.sql}`);
    }
    assert.equal(sha(originFile), before, 'the origin file is byte for byte the same');
  });

  /** The drivers' connections, reached past the public API: the wall behind the check can only be shown without the check. */
  interface Connection {
    all(sql: string, params?: readonly unknown[]): Promise<unknown[]>;
    exec(sql: string): Promise<void>;
    denyAttach(): Promise<void>;
    close(): Promise<void>;
  }
  const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const internals = () =>
    import(pathToFileURL(join(ROOT, 'dist', 'sqlite', 'sqlite-driver.js')).href) as Promise<{
      openSqliteConnection(driver: SqliteDriver, filename: string, readOnly?: boolean): Promise<Connection>;
    }>;

  for (const driver of DRIVERS) {
    it(`${driver}: a connection that refuses ATTACH can neither attach nor VACUUM INTO a file, even with no check before it`, async () => {
      const { openSqliteConnection } = await internals();
      const cacheFile = tmp.file(`wall-${driver}.db`);
      const seed = await openSqlite(cacheFile);
      await seed.exec(AB_TABLES_SQLITE);
      await seed.close();
      // Control: a read-only connection with query_only on writes a VACUUM INTO file all the same.
      const control = join(evil, `control-${driver}.db`);
      const plain = await openSqliteConnection(driver, cacheFile, true);
      await plain.exec('PRAGMA query_only = ON');
      await plain.exec(`VACUUM INTO '${control}'`).catch(() => undefined);
      await plain.close();
      assert.ok(existsSync(control), 'control: VACUUM INTO creates its file on a read-only connection');
      rmSync(control);
      for (const [name, filename, readOnly] of [['read-only file', cacheFile, true], ['in-memory', ':memory:', false]] as const) {
        const conn = await openSqliteConnection(driver, filename, readOnly);
        try {
          await conn.denyAttach();
          const target = (f: string) => join(evil, `${driver}-${name.replace(/\W/g, '')}-${f}`);
          for (const sql of [`ATTACH '${target('a.db')}' AS x`, `ATTACH 'file:${target('u.db')}?mode=rwc' AS x`, `VACUUM INTO '${target('v.db')}'`]) {
            await assert.rejects(conn.all(sql), /too many attached databases/, `${name}: ${sql}`);
          }
          assert.deepEqual(readdirSync(evil), [], `${name}: no file appeared`);
          if (readOnly) assert.deepEqual(await conn.all('SELECT COUNT(*) AS n FROM b'), [{ n: 4 }], `${name}: reads still run`);
        } finally {
          await conn.close();
        }
      }
    });
  }
});
