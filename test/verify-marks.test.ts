/**
 * verify() checks every mark against what it recorded it stands on: entity keys present or absent,
 * hasMany/hasOne and manyToMany groups and custom-query answers by their rows (count and key checksum).
 * A cached row, link or recorded row removed by hand (another SQLite connection) makes verify() not ok,
 * naming kind and key; verify({ repair: true }) and `asyncdbview verify --repair` drop exactly the
 * unbacked marks, so those lookups go to the origin again while the others still answer offline. A file
 * with overwritten bytes gives a not-ok report (CLI exit 1), never a raw SQLITE_CORRUPT.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Mode, mysqlOrigin, openStore, sqliteCache, type SqliteDriver, type View,
} from 'asyncdbview';
import { MOVING_TABLES, movingSchema } from './helpers/moving.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { orErrorName } from './helpers/part.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// The moved-rows tests' schema; the CLI reads it from the same module (its only schema export).
const schema = movingSchema;
type S = typeof schema.entities;
const CS_OF = { tag: 'cs-of', sql: 'SELECT * FROM c WHERE p_id = ? ORDER BY id', params: [1] };

/** Every lookup loaded, and what an offline view answers for it. */
const LOOKUPS: Record<string, (v: View<S>) => Promise<unknown>> = {
  'P 1': async (v) => (await v.P(1)).name,
  'P 2': async (v) => (await v.P(2)).name,
  'C 99': async (v) => (await v.C(99)).name,
  'P.cs 1': async (v) => (await (await v.P(1)).cs).map((c) => c.id),
  'P.cs 2': async (v) => (await (await v.P(2)).cs).map((c) => c.id),
  'P.c 1': async (v) => (await (await v.P(1)).c)?.id ?? null,
  'P.tags 1': async (v) => (await (await v.P(1)).tags).map((t) => t.id),
  'T.ps 1': async (v) => (await (await v.T(1)).ps).map((p) => p.id),
  'q:cs-of [1]': async (v) => (await v.query('C', CS_OF)).map((c) => c.id),
};

function answer(view: View<S>, name: string): Promise<unknown> {
  return orErrorName(() => (LOOKUPS[name] as (v: View<S>) => Promise<unknown>)(view));
}

/** A change by hand behind the marks, the problem verify() must name, and the lookups whose marks it drops on repair. */
const DAMAGES: { name: string; sql: string; problem: RegExp; dropped: string[] }[] = [
  { name: 'a hasMany member deleted', sql: 'DELETE FROM c WHERE id = 11', problem: /^P\.cs of P 1 is marked complete with 2 rows, but the file holds 1$/, dropped: ['P.cs 1', 'P.c 1', 'q:cs-of [1]'] },
  { name: 'an entity row deleted', sql: 'DELETE FROM p WHERE id = 2', problem: /^P 2 is marked present but its row is missing$/, dropped: ['P 2', 'P.cs 2', 'T.ps 1'] },
  { name: 'a link deleted (trigger-free: by hand the triggers still run, so drop them first)', sql: 'DROP TRIGGER "adbv_unlinked__P.tags"; DROP TRIGGER "adbv_unlinked__T.ps"; DELETE FROM p_tag WHERE p_id = 1 AND t_id = 2', problem: /^P\.tags of P 1 is marked complete with 2 rows, but the file holds 1$/, dropped: ['P.tags 1'] },
  { name: 'a linked target row deleted', sql: 'DELETE FROM t WHERE id = 2', problem: /^P\.tags of P 1 is marked complete with 2 rows, but the file holds 1$/, dropped: ['P.tags 1'] },
  { name: 'a row inserted where the origin had none', sql: "INSERT INTO c (id, p_id, name) VALUES (99, 2, 'x')", problem: /^C 99 is marked absent but the file holds an older row for it$/, dropped: ['C 99', 'P.cs 2'] },
  { name: 'a recorded query row deleted', sql: 'DELETE FROM adbv_query_rows WHERE pos = 0', problem: /^query cs-of \[1\] is marked complete with 2 rows, but the file holds 1 recorded$/, dropped: ['q:cs-of [1]'] },
  { name: 'a member swapped for another key', sql: 'DROP TRIGGER "adbv_moved__P.cs"; DROP TRIGGER "adbv_moved__P.c"; UPDATE c SET p_id = 1 WHERE id = 20; UPDATE c SET p_id = 3 WHERE id = 11', problem: /^P\.cs of P 1 is marked complete but the rows the file holds are not the ones recorded$/, dropped: ['P.cs 1', 'P.c 1', 'P.cs 2', 'q:cs-of [1]'] },
];

describe('verify() checks every mark, and repair drops the unbacked ones', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const schemaJs = join(root, 'build', 'test', 'helpers', 'moving.js');
  let compared = 0;
  before(async () => {
    db = await createTestDb(
      ...MOVING_TABLES,
      "INSERT INTO p VALUES (1, 'p1'), (2, 'p2')",
      "INSERT INTO c VALUES (10, 1, 'c10'), (11, 1, 'c11'), (20, 2, 'c20')",
      "INSERT INTO t VALUES (1, 't1'), (2, 't2')",
      'INSERT INTO p_tag VALUES (1, 1), (1, 2), (2, 1)',
    );
  });
  after(async () => {
    console.log(`# verify: ${DAMAGES.length} kinds of damage × ${DRIVERS.length} drivers, ${compared} offline answers compared after repair`);
    await db.drop();
    tmp.remove();
  });

  /** A cache file with every lookup of LOOKUPS loaded from the origin; returns their answers. */
  async function warm(file: string, driver: SqliteDriver): Promise<Record<string, unknown>> {
    await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.PREFER_CACHE });
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(LOOKUPS)) {
      await using view = store.view();
      out[name] = await answer(view, name);
    }
    assert.deepEqual((await store.verify()).problems, [], 'a sound file');
    return out;
  }

  for (const driver of DRIVERS) {
    it(`${driver}: each change behind a mark is named by verify(); repair drops exactly the unbacked marks`, async () => {
      for (const [i, damage] of DAMAGES.entries()) {
        const file = tmp.file(`${driver}-${i}.db`);
        const online = await warm(file, driver);
        const f = await openSqlite(file);
        await f.exec(damage.sql);
        await f.close();
        await using store = await openStore(schema, { origin: null, cache: sqliteCache(file, { driver }), mode: Mode.OFFLINE });
        const report = await store.verify();
        assert.equal(report.ok, false, `${damage.name}: ${JSON.stringify(report)}`);
        assert.ok(report.problems.some((p) => damage.problem.test(p)), `${damage.name}: ${JSON.stringify(report.problems)}`);
        assert.equal(report.repaired, 0);
        const repaired = await store.verify({ repair: true });
        assert.equal(repaired.ok, true, `${damage.name}: ${JSON.stringify(repaired)}`);
        assert.ok(repaired.repaired >= 1);
        const again = await store.verify();
        assert.deepEqual({ ok: again.ok, problems: again.problems }, { ok: true, problems: [] }, `${damage.name}: sound after repair`);
        for (const name of Object.keys(LOOKUPS)) {
          await using view = store.view();
          const got = await answer(view, name);
          compared++;
          if (damage.dropped.includes(name)) assert.equal(got, 'IsOfflineError', `${damage.name}: ${name} goes to the origin again`);
          else assert.deepEqual(got, online[name], `${damage.name}: ${name} still answers as the origin did`);
        }
      }
    });
  }

  it('asyncdbview verify --repair: exit 1 naming the mark, then 0 after dropping it; a damaged file is exit 1, not a crash', async () => {
    const file = tmp.file('cli.db');
    await warm(file, 'sqlite3');
    const f = await openSqlite(file);
    await f.exec('DELETE FROM c WHERE id = 11');
    await f.close();
    const found = await cli('verify', '--cache', file, '--schema', schemaJs);
    assert.equal(found.code, 1, found.stdout + found.stderr);
    assert.match(found.stdout, /^ {2}P\.cs of P 1 is marked complete with 2 rows, but the file holds 1$/m);
    const repaired = await cli('verify', '--cache', file, '--schema', schemaJs, '--repair', '--json');
    assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
    const report = JSON.parse(repaired.stdout);
    assert.equal(report.ok, true);
    assert.ok(report.repaired >= 1, repaired.stdout);
    const clean = await cli('verify', '--cache', file, '--schema', schemaJs);
    assert.equal(clean.code, 0, clean.stdout);
    assert.match(clean.stdout, /^ok: /);

    // Bytes overwritten in the data pages, past the schema page: the file opens, verify reports the damage.
    const big = tmp.file('big.db');
    const rows = Array.from({ length: 5000 }, (_, k) => ({ id: 1000 + k, p_id: 1, name: `row ${k} `.repeat(8) }));
    await sqliteMerge(big, schema.compiled.byName.get('C')!, rows);
    // Everything in the main file, not the WAL (however the store's connections happened to close).
    const ckpt = await openSqlite(big);
    await ckpt.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    await ckpt.close();
    const size = statSync(big).size;
    assert.ok(size > 200 * 1024, `${size} bytes`);
    const fd = openSync(big, 'r+');
    writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    const damaged = await cli('verify', '--cache', big, '--schema', schemaJs, '--json');
    assert.equal(damaged.code, 1, damaged.stdout + damaged.stderr);
    const damage = JSON.parse(damaged.stdout);
    assert.equal(damage.ok, false);
    assert.ok(damage.problems.some((p: string) => /integrity|malformed|corrupt/i.test(p)), damaged.stdout);
  });
});

/** Writes rows of C into a cache file through a cache of its own. */
async function sqliteMerge(file: string, C: (typeof schema.compiled.entities)[number], rows: Record<string, unknown>[]): Promise<void> {
  const cache = sqliteCache(file);
  await using _store = await openStore(schema, { origin: null, cache, mode: Mode.OFFLINE });
  await cache.merge({ entity: C, rows, loadedAt: Date.now(), entityKeys: rows.map((r) => r.id as number) });
}

/** Runs `node dist/cli.js ...args`; the exit code is the result. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.DEBUG;
    execFile(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}
