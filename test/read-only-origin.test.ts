/**
 * Caller SQL to a MySQL/MariaDB origin (view.raw, view.query) is sent only if it is exactly one plain read,
 * whatever form the origin was given in: a URL, a URL with `?multipleStatements=true`, or a caller's mysql2
 * pool created with `multipleStatements: true`. Every store reaches the server through a CountingProxy, so
 * "nothing was sent" is read on the wire; the server's own counters (every `Com_*` but the SHOW STATUS that
 * reads them), the data, the files the statements would write and the server's answering are checked after
 * each hostile statement.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { Mode, mysqlOrigin, openStore, OriginError, RefusedSqlError, type Store } from 'asyncdbview';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { testCache } from './helpers/cache-driver.js';
import { CountingProxy } from './helpers/counting-proxy.js';
import { createTestDb, MYSQL_HOST, MYSQL_PASSWORD, MYSQL_PORT, MYSQL_USER, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

type AbStore = Store<(typeof abSchema)['entities']>;

/** CLIENT_MULTI_STATEMENTS in a HandshakeResponse. */
const MULTI_STATEMENTS = 0x10000;
/** ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION. */
const READ_ONLY = 1792;
/** ER_PROCACCESS_DENIED_ERROR: what a user granted only SELECT (`npm run test:select-only`) gets for a stored function. */
const EXECUTE_DENIED = 1370;
/** Whether the library connects as root, who may run the stored functions below (else: a SELECT-only user). */
const AS_ROOT = MYSQL_USER === 'root';

const tag = randomBytes(4).toString('hex');
/** Files the statements below would make the server write (as the mysql user, so under /tmp). */
const outfile = (n: number) => `/tmp/adbv-outfile-${tag}-${n}`;
const FILES = Array.from({ length: 10 }, (_, i) => outfile(i + 1));
const EVIL_USERS = [`adbv_evil_${tag}`, `adbv_evil2_${tag}`];

/** A value mysql2 would inline as SQL (what mysql.raw() returns). */
const rawSql = (text: string) => ({ toSqlString: () => text });

/**
 * Hostile caller SQL: each would have changed something had it run (a row, a file, a server setting, a
 * session, a user, the server itself). `refused` is what the error must name; `rawOnly`: its values are
 * objects, which view.query already refuses as parameters (a TypeError of its own) before the origin.
 */
const HOSTILE: readonly { sql: string; params?: unknown[]; refused: RegExp; rawOnly?: boolean }[] = [
  { sql: 'CALL adbv_write_b()', refused: /^a CALL statement$/ },
  { sql: '/* why not */ CALL adbv_write_b()', refused: /^a CALL statement$/ },
  { sql: `SELECT * FROM a INTO OUTFILE '${outfile(1)}'`, refused: /^INTO OUTFILE/ },
  { sql: `select * into\toutfile '${outfile(2)}' from a`, refused: /^INTO OUTFILE/ },
  { sql: `SELECT name FROM a WHERE id = 1 INTO DUMPFILE '${outfile(3)}'`, refused: /^INTO DUMPFILE/ },
  { sql: 'SELECT name FROM a WHERE id = 1 INTO @adbv_name', refused: /^INTO @variable/ },
  { sql: `SELECT 1 UNION SELECT name FROM a INTO OUTFILE '${outfile(4)}'`, refused: /^INTO OUTFILE/ },
  { sql: `SELECT 1.INTO OUTFILE '${outfile(5)}'`, refused: /^INTO OUTFILE/ },
  { sql: `TABLE a INTO OUTFILE '${outfile(6)}'`, refused: /^INTO OUTFILE/ },
  { sql: 'SET GLOBAL max_connections = 99', refused: /^a SET statement$/ },
  { sql: 'SET SESSION TRANSACTION READ WRITE', refused: /^a SET statement$/ },
  { sql: 'SET @@SESSION.transaction_read_only = 0', refused: /^a SET statement$/ },
  { sql: "SET STATEMENT max_statement_time = 10 FOR UPDATE a SET name = 'hacked' WHERE id = 1", refused: /^a SET statement$/ },
  { sql: 'KILL CONNECTION_ID()', refused: /^a KILL statement$/ },
  { sql: 'KILL QUERY CONNECTION_ID()', refused: /^a KILL statement$/ },
  { sql: 'SHUTDOWN', refused: /^a SHUTDOWN statement$/ },
  { sql: "SET SESSION TRANSACTION READ WRITE; UPDATE a SET name = 'hacked' WHERE id = 1", refused: /^a second statement after ';'$/ },
  { sql: "SELECT 1; UPDATE a SET name = 'hacked' WHERE id = 1", refused: /^a second statement after ';'$/ },
  { sql: 'SELECT 1;\nSHUTDOWN', refused: /^a second statement after ';'$/ },
  { sql: 'SELECT 1; -- fine so far\nDELETE FROM b', refused: /^a second statement after ';'$/ },
  { sql: "SELECT ';' AS s; DROP TABLE b", refused: /^a second statement after ';'$/ },
  { sql: 'DESCRIBE a; DROP TABLE b', refused: /^a second statement after ';'$/ },
  { sql: 'SHOW TABLES; DROP TABLE b', refused: /^a second statement after ';'$/ },
  { sql: "/*!50000 UPDATE a SET name = 'hacked' WHERE id = 1 */", refused: /^an executable comment \/\*! … \*\/$/ },
  { sql: `SELECT name FROM a /*! INTO OUTFILE '${outfile(7)}' */`, refused: /^an executable comment \/\*! … \*\/$/ },
  { sql: '/*M!100000 SET GLOBAL max_connections = 98 */', refused: /^an executable comment \/\*M! … \*\/$/ },
  { sql: 'SELECT 1 /*!, (SELECT adbv_rename_a1()) */', refused: /^an executable comment/ },
  { sql: 'SELECT /*+ SET_VAR(max_statement_time = 1) */ 1', refused: /^an optimizer hint/ },
  { sql: 'SELECT * FROM a FOR UPDATE', refused: /^FOR UPDATE/ },
  { sql: 'SELECT * FROM a WHERE id IN (SELECT a_id FROM b FOR UPDATE)', refused: /^FOR UPDATE/ },
  { sql: 'SELECT * FROM a FOR SHARE', refused: /^FOR SHARE/ },
  { sql: 'SELECT * FROM a LOCK IN SHARE MODE', refused: /^LOCK IN SHARE MODE/ },
  { sql: 'INSERT INTO b VALUES (?, ?, ?)', params: [70, 'b70', 1], refused: /^an INSERT statement$/ },
  { sql: 'UPDATE a SET name = ? WHERE id = 1', params: ['hacked'], refused: /^an UPDATE statement$/ },
  { sql: 'DELETE FROM b', refused: /^a DELETE statement$/ },
  { sql: '# a comment\nDELETE FROM b', refused: /^a DELETE statement$/ },
  { sql: '-- a comment\nDELETE FROM b', refused: /^a DELETE statement$/ },
  { sql: "REPLACE INTO a VALUES (1, 'hacked')", refused: /^a REPLACE statement$/ },
  { sql: 'CREATE TABLE z (id INT)', refused: /^a CREATE statement$/ },
  { sql: 'DROP TABLE b', refused: /^a DROP statement$/ },
  { sql: 'TRUNCATE TABLE b', refused: /^a TRUNCATE statement$/ },
  { sql: 'ALTER TABLE a ADD COLUMN z INT', refused: /^an ALTER statement$/ },
  { sql: 'RENAME TABLE b TO b_gone', refused: /^a RENAME statement$/ },
  { sql: 'OPTIMIZE TABLE a', refused: /^an OPTIMIZE statement$/ },
  { sql: 'REPAIR TABLE a', refused: /^a REPAIR statement$/ },
  { sql: "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE b", refused: /^a LOAD statement$/ },
  { sql: 'HANDLER a OPEN', refused: /^a HANDLER statement$/ },
  { sql: 'DO adbv_rename_a1()', refused: /^a DO statement$/ },
  { sql: 'LOCK TABLES a WRITE', refused: /^a LOCK statement$/ },
  { sql: 'FLUSH TABLES', refused: /^a FLUSH statement$/ },
  { sql: `GRANT ALL ON *.* TO '${EVIL_USERS[0]}'@'%' IDENTIFIED BY 'x'`, refused: /^a GRANT statement$/ },
  { sql: `CREATE USER '${EVIL_USERS[1]}'@'%'`, refused: /^a CREATE statement$/ },
  { sql: "INSTALL SONAME 'ha_blackhole'", refused: /^an INSTALL statement$/ },
  { sql: "PREPARE s FROM 'UPDATE a SET name = 1'", refused: /^a PREPARE statement$/ },
  { sql: 'START TRANSACTION READ WRITE', refused: /^a START statement$/ },
  { sql: 'BEGIN', refused: /^a BEGIN statement$/ },
  { sql: "XA START 'adbv'", refused: /^a XA statement$/ },
  { sql: "WITH t AS (SELECT 1 AS id) UPDATE a SET name = 'hacked' WHERE id IN (SELECT id FROM t)", refused: /^WITH … before an UPDATE statement$/ },
  { sql: 'WITH t AS (DELETE FROM b) SELECT 1', refused: /^WITH t AS \(a DELETE statement\)$/ },
  { sql: 'ANALYZE DELETE FROM b', refused: /^an ANALYZE statement$/ },
  { sql: 'EXPLAIN ANALYZE DELETE FROM b', refused: /^(EXPLAIN of a DELETE statement|an EXPLAIN statement)$/ },
  { sql: `SELECT 'x\\' INTO OUTFILE \\'${outfile(8)}\\' -- '`, refused: /^a backslash before ' in a quoted literal/ },
  { sql: '  /* nothing but a comment */  ', refused: /^an empty statement/ },
  { sql: 'SELECT 1 /* never closed', refused: /^an unterminated comment/ },
  { sql: 'SELECT 1\u0000; DROP TABLE b', refused: /^a NUL character$/ },
  { sql: 'SELECT ? AS v', params: [rawSql(`1 INTO OUTFILE '${outfile(9)}'`)], refused: /^params\[0\], a value with toSqlString\(\)/, rawOnly: true },
  { sql: 'SELECT * FROM a WHERE id IN (?)', params: [[1, rawSql(`2) INTO OUTFILE '${outfile(10)}' -- `)]], refused: /^params\[0\]\[1\], a value with toSqlString\(\)/, rawOnly: true },
];

/** Plain reads: they run on the first two origin forms, with the rows given. */
const READS: readonly { sql: string; params?: unknown[]; rows: unknown[]; rawOnly?: boolean }[] = [
  { sql: 'SELECT id, name FROM a WHERE id = ?', params: [1], rows: [{ id: 1, name: 'a1' }] },
  { sql: 'WITH t AS (SELECT id, name FROM a WHERE id <= ?) SELECT id, name FROM t ORDER BY id', params: [2], rows: [{ id: 1, name: 'a1' }, { id: 2, name: 'a2' }] },
  { sql: 'SELECT id, name FROM a WHERE id IN (SELECT a_id FROM b WHERE name <> ?) ORDER BY id', params: ['b4'], rows: [{ id: 1, name: 'a1' }] },
  { sql: "SELECT id, name FROM a WHERE name <> 'x; INTO OUTFILE ''/tmp/y''; FOR UPDATE' AND id = 2", rows: [{ id: 2, name: 'a2' }] },
  { sql: 'SELECT id, name FROM a WHERE name <> "; DROP TABLE b; SHUTDOWN" AND id = 3', rows: [{ id: 3, name: 'a3' }] },
  { sql: 'SELECT `id`, `name` FROM `a` WHERE `id` = 1 /* ; DELETE FROM b */ -- ; INTO OUTFILE\n# CALL p()\n', rows: [{ id: 1, name: 'a1' }] },
  { sql: 'SELECT id, name FROM a WHERE id = 1;', rows: [{ id: 1, name: 'a1' }] },
  { sql: '(SELECT id, name FROM a WHERE id = 1) UNION ALL (SELECT id, name FROM a WHERE id = 3)', rows: [{ id: 1, name: 'a1' }, { id: 3, name: 'a3' }] },
  { sql: "SELECT COUNT(*) AS `INTO OUTFILE`, 'it''s' AS q, 'a\\\\' AS bs FROM b", rows: [{ 'INTO OUTFILE': 4, q: "it's", bs: 'a\\' }], rawOnly: true },
  { sql: `SELECT 3--1 AS four, "it\\'s" AS s -- the first -- was a minus\n`, rows: [{ four: 4, s: "it's" }], rawOnly: true },
  { sql: 'SELECT 5 AS five --', rows: [{ five: 5 }], rawOnly: true },
  { sql: "SHOW TABLES LIKE 'a'", rows: [], rawOnly: true },
  { sql: 'DESCRIBE a id', rows: [], rawOnly: true },
  { sql: 'EXPLAIN SELECT * FROM a WHERE id = 1', rows: [], rawOnly: true },
];

const ENTRIES = ['raw', 'query'] as const;
type Entry = (typeof ENTRIES)[number];

describe('caller SQL to a MySQL origin: one plain read or nothing sent', { skip }, () => {
  let db: TestDb;
  let proxy: CountingProxy;
  let url: string;
  let maxConnections: number;
  const tmp = tempDir();
  let n = 0;
  /** The caller's pools (third form), ended after the tests. */
  const pools: mysql.Pool[] = [];
  /** Whether the server writes INTO OUTFILE files at all (secure_file_priv), so the file checks mean something. */
  let serverWritesFiles = false;

  /** The three forms the origin is given in. */
  const FORMS: readonly { name: string; origin: () => ReturnType<typeof mysqlOrigin>; callerMultiPool: boolean }[] = [
    { name: 'URL', origin: () => mysqlOrigin(url), callerMultiPool: false },
    { name: 'URL?multipleStatements=true', origin: () => mysqlOrigin(`${url}?multipleStatements=true`), callerMultiPool: false },
    {
      name: "caller's pool with multipleStatements: true",
      origin: () => {
        const pool = mysql.createPool({ uri: url, multipleStatements: true, connectionLimit: 2 });
        pools.push(pool);
        return mysqlOrigin(pool);
      },
      callerMultiPool: true,
    },
  ];

  before(async () => {
    db = await createTestDb(
      ...AB_TABLES,
      // Lifts the read-only session it runs in, then writes: what CALL did before this check existed.
      "CREATE PROCEDURE adbv_write_b() BEGIN SET SESSION TRANSACTION READ WRITE; INSERT INTO b VALUES (60, 'b60', 1); END",
      // Writes from inside a SELECT: only the server can see it.
      "CREATE FUNCTION adbv_rename_a1() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE a SET name = 'renamed' WHERE id = 1; RETURN 1; END",
      'CREATE FUNCTION adbv_lift() RETURNS INT NO SQL BEGIN SET SESSION TRANSACTION READ WRITE; RETURN 1; END',
    );
    proxy = new CountingProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    await proxy.listen();
    const auth = encodeURIComponent(MYSQL_USER) + (MYSQL_PASSWORD === '' ? '' : `:${encodeURIComponent(MYSQL_PASSWORD)}`);
    url = `mysql://${auth}@127.0.0.1:${proxy.port}/${db.name}`;
    const [[mc]] = (await db.admin.query('SELECT @@GLOBAL.max_connections AS n')) as unknown as [{ n: number }[]];
    maxConnections = Number(mc?.n);
    // Controls: what the hostile statements would do if they reached the server.
    const control = await mysqlPromise.createConnection({ uri: `mysql://root@${MYSQL_HOST}:${MYSQL_PORT}/${db.name}` });
    try {
      await control.query('SET SESSION TRANSACTION READ ONLY');
      await control.query('CALL adbv_write_b()');
      const [rows] = await control.query('SELECT COUNT(*) AS n FROM b WHERE id = 60');
      assert.equal(Number((rows as { n: number }[])[0]?.n), 1, 'control: CALL writes a row even from a read-only session');
      await control.query('DELETE FROM b WHERE id = 60');
      const probe = `/tmp/adbv-outfile-${tag}-control`;
      serverWritesFiles = await control.query(`SELECT 1 INTO OUTFILE '${probe}'`).then(() => existsSync(probe), () => false);
      rmSync(probe, { force: true });
    } finally {
      await control.end();
    }
  });

  after(async () => {
    for (const pool of pools) await new Promise<void>((resolve) => pool.end(() => resolve()));
    await proxy.close();
    // Only needed had a statement got through: put the server back as it was.
    for (const u of EVIL_USERS) await db.admin.query(`DROP USER IF EXISTS '${u}'@'%'`);
    await db.admin.query(`SET GLOBAL max_connections = ${maxConnections}`);
    for (const f of FILES) rmSync(f, { force: true });
    await db.drop();
    tmp.remove();
  });

  /** The server's statement counters (all Com_*, less the SHOW STATUS that reads them). */
  async function counters(): Promise<Record<string, string>> {
    const [rows] = await db.admin.query("SHOW GLOBAL STATUS LIKE 'Com\\_%'");
    return Object.fromEntries((rows as { Variable_name: string; Value: string }[]).filter((r) => r.Variable_name !== 'Com_show_status').map((r) => [r.Variable_name, r.Value]));
  }

  /** What a hostile statement could have changed: rows, tables, routines, users, a global, files; and that the server answers. */
  async function originState(): Promise<unknown> {
    const q = async (sql: string, params: unknown[] = []) => (await db.admin.query(sql, params))[0];
    return {
      a: await q('SELECT id, name FROM a ORDER BY id'),
      b: await q('SELECT id, name, a_id FROM b ORDER BY id'),
      tables: await q('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [db.name]),
      users: await q('SELECT user FROM mysql.user WHERE user IN (?) ORDER BY 1', [EVIL_USERS]),
      maxConnections: await q('SELECT @@GLOBAL.max_connections AS n'),
      files: FILES.filter((f) => existsSync(f)),
      answers: await q('SELECT 1 AS one'),
    };
  }

  function call(store: AbStore, entry: Entry, sql: string, params: unknown[] | undefined): Promise<unknown> {
    const view = store.view({ mode: Mode.FRESHEN });
    return entry === 'raw' ? view.raw(sql, params ?? []) : view.query('A', { tag: `q${++n}`, sql, params: params ?? [] });
  }

  for (const form of FORMS) {
    for (const entry of ENTRIES) {
      it(`${entry} × ${form.name}: every hostile statement is refused before anything is sent, and nothing changes`, async (t: TestContext) => {
        await using store = await openStore(abSchema, { origin: form.origin(), cache: testCache(tmp.file(`h-${++n}.db`)) });
        {
          // The origin works for the library's own lookups on every form.
          await using view = store.view({ mode: Mode.FRESHEN });
          assert.equal((await view.A(1)).name, 'a1');
        }
        const initial = await originState();
        const hostile = HOSTILE.filter((h) => entry === 'raw' || h.rawOnly !== true);
        let refused = 0;
        for (const { sql, params, refused: what } of hostile) {
          const before = await counters();
          const mark = proxy.mark();
          const connections = proxy.connections;
          const error = await call(store, entry, sql, params).then(() => undefined, (e: unknown) => e);
          const after = await counters();
          assert.ok(error instanceof RefusedSqlError, `${sql}: refused with a RefusedSqlError, got ${String(error)}`);
          assert.equal(error.entry, entry);
          assert.equal(error.sql, sql);
          assert.match(error.refused, form.callerMultiPool ? /multipleStatements/ : what, sql);
          assert.match(error.message, /read-only/);
          assert.deepEqual(proxy.roundTripsSince(mark), [], `${sql}: nothing crossed the wire`);
          assert.equal(proxy.connections, connections, `${sql}: no connection was opened`);
          assert.deepEqual(after, before, `${sql}: the server's Com_* counters did not move`);
          assert.deepEqual(await originState(), initial, `${sql}: rows, tables, users, max_connections, files unchanged; the server answers`);
          refused++;
        }
        const recorded = await store.cacheSql("SELECT COUNT(*) AS n FROM ever_loaded WHERE kind LIKE 'q:%'");
        assert.equal(Number(recorded[0]?.n), 0, 'no query recorded in the cache');
        assert.equal(store.stats.originQueries, 1, 'stats count only the lookup: refused SQL is no origin statement');
        t.diagnostic(`${entry} × ${form.name}: ${hostile.length} hostile statements tried, ${refused} refused before sending, nothing changed${serverWritesFiles ? '' : ' (this server writes no INTO OUTFILE files at all)'}`);
      });
    }

    it(`raw and query × ${form.name}: plain reads ${form.callerMultiPool ? 'are refused, saying why' : 'run'}`, async () => {
      await using store = await openStore(abSchema, { origin: form.origin(), cache: testCache(tmp.file(`r-${++n}.db`)) });
      const initial = await originState();
      for (const entry of ENTRIES) {
        for (const read of READS.filter((r) => entry === 'raw' || r.rawOnly !== true)) {
          const mark = proxy.mark();
          const result = await call(store, entry, read.sql, read.params).then((rows) => ({ rows }), (error: unknown) => ({ error }));
          if (form.callerMultiPool) {
            const error = (result as { error?: unknown }).error;
            assert.ok(error instanceof RefusedSqlError, `${entry} ${read.sql}: refused on a multiple-statement pool, got ${JSON.stringify(result)}`);
            assert.match(error.message, /multipleStatements.*caller SQL never runs where a second statement could follow; give mysqlOrigin a pool without it/);
            assert.deepEqual(proxy.roundTripsSince(mark), [], 'nothing sent');
            continue;
          }
          assert.ok('rows' in result, `${entry} ${read.sql}: ${String((result as { error?: unknown }).error)}`);
          const rows = (result.rows as Record<string, unknown>[]).map((r): Record<string, unknown> => (entry === 'query' ? { id: r.id, name: r.name } : { ...r }));
          if (read.sql.startsWith('SHOW')) assert.deepEqual(rows.map((r) => Object.values(r)), [['a']]);
          else if (read.sql.startsWith('DESCRIBE')) assert.deepEqual(rows.map((r) => r.Field), ['id']);
          else if (read.sql.startsWith('EXPLAIN')) assert.equal(rows.length, 1);
          else assert.deepEqual(rows.map((r) => (typeof r['INTO OUTFILE'] === 'string' ? { ...r, 'INTO OUTFILE': Number(r['INTO OUTFILE']) } : r)), read.rows, `${entry} ${read.sql}`);
          assert.equal(proxy.roundTripsSince(mark).at(-2)?.sql, 'SET SESSION TRANSACTION READ ONLY', `${entry} ${read.sql}: the read-only session, then the one statement`);
        }
      }
      assert.deepEqual(await originState(), initial, 'nothing changed');
      // The library's own reads go on through any form.
      await using view = store.view({ mode: Mode.FRESHEN });
      assert.deepEqual((await (await view.A(1)).bs).map((b) => b.id), [1, 2, 3]);
    });

    if (!form.callerMultiPool) {
      it(`raw × ${form.name}: a write inside a SELECT reaches the server, whose read-only session (or grants) refuse it: the second wall`, async () => {
        await using store = await openStore(abSchema, { origin: form.origin(), cache: testCache(tmp.file(`w-${++n}.db`)) });
        const initial = await originState();
        for (const sql of ['SELECT adbv_rename_a1() AS done', 'SELECT adbv_lift() AS lifted, adbv_rename_a1() AS done']) {
          const error = await store.view().raw(sql).then(() => undefined, (e: unknown) => e);
          assert.ok(error instanceof OriginError, `${sql}: ${String(error)}`);
          const errno = (error.cause as { errno?: number }).errno;
          // A SELECT-only user meets whichever wall the server checks first: the session, or the missing EXECUTE grant.
          assert.ok(errno === READ_ONLY || (!AS_ROOT && errno === EXECUTE_DENIED), `${sql}: refused by the server (errno ${errno}: ${error.message})`);
        }
        assert.deepEqual(await originState(), initial);
      });
    }
  }

  it('a stored function that lifts the read-only session does not lift it for the next caller statement', { skip: !AS_ROOT && 'a SELECT-only user may not run stored functions at all' }, async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin({ uri: url, connectionLimit: 1 }), cache: testCache(tmp.file(`l-${++n}.db`)) });
    await using view = store.view();
    const initial = await originState();
    assert.deepEqual((await view.raw('SELECT adbv_lift() AS lifted')).map((r) => ({ ...r })), [{ lifted: 1 }]);
    const error = await view.raw('SELECT adbv_rename_a1() AS done').then(() => undefined, (e: unknown) => e);
    assert.equal(((error as OriginError).cause as { errno?: number }).errno, READ_ONLY, String(error));
    assert.deepEqual(await originState(), initial);
  });

  it('the connections the library makes take one statement per query, whatever the URL or options asked; the tree pool still takes several', async () => {
    const forms: [string, () => ReturnType<typeof mysqlOrigin>][] = [
      ['URL', () => mysqlOrigin(url)],
      ['URL?multipleStatements=true', () => mysqlOrigin(`${url}?multipleStatements=true`)],
      ['URL?flags=MULTI_STATEMENTS', () => mysqlOrigin(`${url}?flags=MULTI_STATEMENTS`)],
      ['{ uri, multipleStatements: true }', () => mysqlOrigin({ uri: url, multipleStatements: true })],
      ['{ uri: URL?multipleStatements=true, multipleStatements: false }', () => mysqlOrigin({ uri: `${url}?multipleStatements=true`, multipleStatements: false })],
      ["{ …, flags: ['MULTI_STATEMENTS'] }", () => mysqlOrigin({ host: '127.0.0.1', port: proxy.port, user: MYSQL_USER, password: MYSQL_PASSWORD, database: db.name, flags: ['MULTI_STATEMENTS'] })],
    ];
    for (const [name, origin] of forms) {
      await using store = await openStore(abSchema, { origin: origin(), cache: testCache(tmp.file(`f-${++n}.db`)), mode: Mode.FRESHEN });
      await using view = store.view();
      const mark = proxy.mark();
      const marker = `caller-${n}`;
      assert.deepEqual((await view.raw('SELECT ? AS m', [marker])).map((r) => r.m), [marker]);
      const a1 = await view.A(1);
      await view.preload([a1], { bs: true }, { strategy: 'tree' });
      const sent = proxy.since(mark);
      const callerConn = sent.find((c) => c.sql === `SELECT '${marker}' AS m`)?.connection;
      const lookupConn = sent.find((c) => c.sql?.startsWith('SELECT t.`id`, t.`name` FROM `a`'))?.connection;
      const treeConn = sent.find((c) => c.sql?.startsWith('START TRANSACTION WITH CONSISTENT SNAPSHOT'))?.connection;
      assert.ok(callerConn !== undefined && lookupConn !== undefined && treeConn !== undefined, `${name}: ${JSON.stringify(sent)}`);
      assert.equal((proxy.clientFlags.get(callerConn) ?? MULTI_STATEMENTS) & MULTI_STATEMENTS, 0, `${name}: the connection that ran caller SQL takes one statement`);
      assert.equal((proxy.clientFlags.get(lookupConn) ?? MULTI_STATEMENTS) & MULTI_STATEMENTS, 0, `${name}: the lookup connection takes one statement`);
      assert.equal((proxy.clientFlags.get(treeConn) ?? 0) & MULTI_STATEMENTS, MULTI_STATEMENTS, `${name}: the tree connection takes several`);
      assert.deepEqual((await a1.bs).map((b) => b.id), [1, 2, 3], `${name}: the tree was loaded in one round trip`);
    }
  });
});
