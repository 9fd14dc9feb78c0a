import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  belongsTo, defineSchema, entity, hasMany, hasOne, IsOfflineError, Mode, mysqlOrigin, NotFoundError, openStore,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { abSchema } from './helpers/ab-schema.js';
import { everLoadedKeys, queryCacheFile } from './helpers/cache-file.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** Origin tables with more columns than any one schema reads: B has a second parent (a2_id), a score and an extra. */
const TABLES = [
  'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, a_id INT NOT NULL, a2_id INT NOT NULL, score INT NOT NULL, extra VARCHAR(100) NULL, KEY (a_id), KEY (a2_id))',
  "INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')",
  "INSERT INTO b VALUES (1, 'b1', 1, 2, 10, 'e1'), (2, 'b2', 1, 2, 20, 'e2'), (3, 'b3', 1, 3, 30, NULL), (4, 'b4', 2, 1, 40, 'e4')",
];

type BColumns = Record<string, 'integer' | 'bigint' | 'text' | 'text?'>;
const B_BASE: BColumns = { id: 'integer', name: 'text', a_id: 'integer', a2_id: 'integer', score: 'integer' };

/** The schema of this file, with B's columns and A.bs's foreign key as given. */
function makeSchema(bColumns: BColumns = B_BASE, bsKey: 'a_id' | 'a2_id' = 'a_id') {
  return defineSchema({
    A: entity({
      table: 'a', key: 'id',
      columns: { id: 'integer', name: 'text' },
      relations: { bs: hasMany('B', bsKey), b: hasOne('B', 'a_id') },
    }),
    B: entity({
      table: 'b', key: 'id',
      columns: bColumns as typeof B_BASE,
      relations: { a: belongsTo('A', 'a_id') },
    }),
  });
}
type AnySchema = ReturnType<typeof makeSchema>;

const { score: _score, ...B_WITHOUT_SCORE } = B_BASE;
const VARIANTS: { name: string; schema: AnySchema; bChanged: boolean; bColumns: string[]; shape: (b: Record<string, unknown>) => void }[] = [
  {
    name: 'a column added to B (extra)',
    schema: makeSchema({ ...B_BASE, extra: 'text?' }),
    bChanged: true,
    bColumns: ['id', 'name', 'a_id', 'a2_id', 'score', 'extra'],
    shape: (b) => assert.equal(b.extra, 'e1'),
  },
  {
    name: 'a column removed from B (score)',
    schema: makeSchema(B_WITHOUT_SCORE),
    bChanged: true,
    bColumns: ['id', 'name', 'a_id', 'a2_id'],
    shape: (b) => assert.equal(b.score, undefined),
  },
  {
    name: "a B column's type changed (score integer → bigint)",
    schema: makeSchema({ ...B_BASE, score: 'bigint' }),
    bChanged: true,
    bColumns: ['id', 'name', 'a_id', 'a2_id', 'score'],
    shape: (b) => assert.equal(b.score, 10n),
  },
  {
    name: "a relation's foreign key changed (A.bs by a2_id)",
    schema: makeSchema(B_BASE, 'a2_id'),
    bChanged: false,
    bColumns: ['id', 'name', 'a_id', 'a2_id', 'score'],
    shape: (b) => assert.equal(b.score, 10),
  },
];

describe('schema changes: the cache keeps what is still valid and never serves the old shape', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const template = tmp.file('template.db');
  let n = 0;
  /** A copy of the warmed template cache. */
  const copy = () => {
    const file = tmp.file(`copy-${++n}.db`);
    copyFileSync(template, file);
    if (existsSync(`${template}-wal`)) copyFileSync(`${template}-wal`, `${file}-wal`);
    return file;
  };
  const base = makeSchema();

  before(async () => {
    db = await createTestDb(...TABLES);
    // Warm with the base schema: A 1..3, their bs and b, B 1..4 and B 99 absent.
    await using store = await openStore(base, { origin: mysqlOrigin(db.url), cache: testCache(template), mode: Mode.FRESHEN });
    await using view = store.view();
    const as = await Promise.all([view.A(1), view.A(2), view.A(3)]);
    await Promise.all([...as.map((a) => a.bs), ...as.map((a) => a.b)]);
    await view.B.many([1, 2, 3, 4]);
    await assert.rejects(view.B(99), NotFoundError);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  for (const variant of VARIANTS) {
    it(`${variant.name}: offline, A stays complete and what changed is IsOfflineError; online, it is fetched again in the new shape`, async () => {
      const file = copy();
      {
        await using store = await openStore(variant.schema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
        await using view = store.view();
        const a1 = await view.A(1);
        assert.equal(a1.name, 'a1', 'A is unchanged: still answered offline');
        await assert.rejects(a1.bs, IsOfflineError, 'A.bs depends on what changed: no longer complete');
        if (variant.bChanged) {
          await assert.rejects(view.B(1), IsOfflineError, 'B changed: its rows were dropped, not served in the old shape');
          await assert.rejects(view.B(99), IsOfflineError, 'nor its recorded absences');
          await assert.rejects(a1.b, IsOfflineError, 'A.b reads B: dropped too');
        } else {
          const b1 = await view.B(1);
          variant.shape(b1 as unknown as Record<string, unknown>);
          await assert.rejects(view.B(99), NotFoundError, 'B is unchanged: its recorded absence still answers');
          assert.equal((await a1.b)?.id, 1, 'A.b (by a_id) is unchanged: still complete');
          assert.equal(await b1.a, a1);
        }
        const report = await store.verify();
        assert.deepEqual(report.problems, []);
      }
      // The file itself: B's table has the new columns; no mark of what changed survives.
      const f = await openSqlite(file, true);
      try {
        assert.deepEqual(await f.columns('b'), [...variant.bColumns, '_adbv_read_at'], 'the schema\'s columns, then the cache\'s read stamp');
        const kinds = (await f.all<{ kind: string }>('SELECT DISTINCT kind FROM ever_loaded ORDER BY kind')).map((r) => r.kind);
        assert.deepEqual(kinds, variant.bChanged ? ['A'] : ['A', 'A.b', 'B']);
        if (variant.bChanged) assert.deepEqual(await f.all('SELECT * FROM b'), [], 'no B row of the old shape is left');
      } finally {
        await f.close();
      }

      // Online: A from the cache without a statement; what changed is fetched again, in the new shape.
      await using store = await openStore(variant.schema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.PREFER_CACHE });
      await using view = store.view();
      const a = await measure(db, store, () => view.A.many([1, 2, 3]));
      assert.equal(a.originQueries, 0, 'A 1..3 are still complete in the cache');
      assert.equal(a.selects, 0, 'and the server ran no SELECT (Com_select; rerun if another client was busy)');
      const b = await measure(db, store, () => view.B(1));
      assert.equal(b.originQueries, variant.bChanged ? 1 : 0);
      assert.equal(b.selects, variant.bChanged ? 1 : 0, 'Com_select agrees');
      variant.shape(b.value as unknown as Record<string, unknown>);
      const bs = await measure(db, store, () => Promise.all(a.value.map((x) => x!.bs)));
      assert.equal(bs.originQueries, 1, 'A.bs of A 1..3 fetched again, in one statement');
      assert.equal(bs.selects, 1, 'Com_select agrees');
      assert.deepEqual(
        bs.value.map((g) => g.map((x) => x.id)),
        variant.bChanged ? [[1, 2, 3], [4], []] : [[4], [1, 2], [3]],
      );
      await using again = store.view();
      const warm = await measure(db, store, async () => Promise.all((await again.A.many([1, 2, 3])).map((x) => x!.bs)));
      assert.equal(warm.originQueries, 0, 'complete again under the new schema');
      assert.equal(warm.selects, 0, 'Com_select agrees');
      assert.deepEqual((await store.verify()).problems, []);
      await store.close();

      // And back to the old schema: the rows written for the new one are not served in the old shape either.
      await using back = await openStore(base, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await using old = back.view();
      assert.equal((await old.A(1)).name, 'a1');
      if (variant.bChanged) await assert.rejects(old.B(1), IsOfflineError);
      else assert.equal((await old.B(1)).score, 10);
      await assert.rejects((await old.A(2)).bs, IsOfflineError, 'A.bs was complete by a2_id, not by a_id');
      assert.deepEqual(await everLoadedKeys(file, 'A'), [1, 2, 3]);
    });
  }
});

describe('cache files that cannot be used: the error names the file and the problem', () => {
  const tmp = tempDir();
  after(() => tmp.remove());

  /** Opens an OFFLINE store on `file`; returns the error it rejects with. */
  async function openError(file: string): Promise<Error> {
    try {
      const store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await store.close();
    } catch (error) {
      return error as Error;
    }
    assert.fail(`${file} opened as a cache`);
  }

  /** A real cache file with some rows in it. */
  async function realCache(name: string): Promise<string> {
    const file = tmp.file(name);
    const store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await store.close();
    // Fill it past a few pages, with the library's own tables, so damage lands on data.
    const f = await openSqlite(file);
    await f.run("INSERT INTO a (id, name) SELECT value, 'a' || value || printf('%.200c', 'x') FROM json_each(?)", [JSON.stringify(Array.from({ length: 2000 }, (_, i) => i + 1))]);
    await f.run("INSERT INTO ever_loaded (kind, key, loaded_at) SELECT 'A', value, 0 FROM json_each(?)", [JSON.stringify(Array.from({ length: 2000 }, (_, i) => i + 1))]);
    await f.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    await f.close();
    return file;
  }

  it('random bytes', async () => {
    const file = tmp.file('random.db');
    writeFileSync(file, randomBytes(8192));
    const error = await openError(file);
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /not a database/i);
  });

  it('a text file', async () => {
    const file = tmp.file('notes.txt');
    writeFileSync(file, 'These are my notes, not a cache.\n'.repeat(200));
    const error = await openError(file);
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /not a database/i);
  });

  it('a real cache file whose header was overwritten', async () => {
    const file = await realCache('header.db');
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(100, 0x41), 0, 100, 0);
    closeSync(fd);
    const error = await openError(file);
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /not a database/i);
  });

  it('a real cache file cut short: it does not open, or verify() reports the damage', async () => {
    const file = await realCache('truncated.db');
    const size = statSync(file).size;
    assert.ok(size > 64 * 1024, `the file has data pages to lose (${size} bytes)`);
    truncateSync(file, Math.floor(size / 3));
    let report: { ok: boolean; problems: string[] } | undefined;
    let error: Error | undefined;
    try {
      await using store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      report = await store.verify();
      // What it serves must not be invented: rows it cannot read are an error, not an answer.
      await using view = store.view();
      await view.A.many(Array.from({ length: 2000 }, (_, i) => i + 1)).catch((e: unknown) => {
        error = e as Error;
      });
    } catch (e) {
      error = e as Error;
    }
    if (report === undefined) {
      assert.ok(error !== undefined && error.message.includes(file), String(error?.message));
      assert.match(error.message, /malformed|corrupt|not a database/i);
    } else {
      assert.equal(report.ok, false, 'verify() must notice a file cut to a third');
      assert.ok(report.problems.some((p) => /integrity|malformed|corrupt/i.test(p)), JSON.stringify(report.problems));
    }
  });

  it('a path in a directory that does not exist', async () => {
    const file = join(tmp.path, 'no', 'such', 'dir', 'cache.db');
    const error = await openError(file);
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /unable to open|cannot open|no such/i);
  });

  it('a directory', async () => {
    const dir = tmp.file('a-directory.db');
    mkdirSync(dir);
    const error = await openError(dir);
    assert.ok(error.message.includes(dir), error.message);
    assert.match(error.message, /unable to open|cannot open|directory/i);
  });

  it('a file and directory that cannot be written (chmod 0444/0555; as root, checked as user nobody)', async () => {
    const dir = tmp.file('readonly');
    mkdirSync(dir);
    const file = join(dir, 'cache.db');
    {
      const store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await store.close();
    }
    assert.ok(!existsSync(`${file}-wal`), 'closed cleanly: no WAL left');
    const asRoot = process.getuid?.() === 0;
    /** Opens the cache as an unprivileged user: root writes through any mode bits. */
    const openAsNobody = (): { opened?: boolean; error?: string } => {
      const worker = fileURLToPath(new URL('./workers/open-cache.js', import.meta.url));
      const run = spawnSync(process.execPath, [worker, file], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 20_000 });
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stdout.trim()) as { opened?: boolean; error?: string };
    };
    if (asRoot) {
      // Control: owned by nobody and writable, the same file opens as nobody.
      chmodSync(tmp.path, 0o755);
      chownSync(dir, 65534, 65534);
      chownSync(file, 65534, 65534);
      assert.deepEqual(openAsNobody(), { opened: true }, 'writable: opens');
    }
    chmodSync(file, 0o444);
    chmodSync(dir, 0o555);
    let message: string;
    if (asRoot) {
      const out = openAsNobody();
      assert.equal(out.opened, undefined, 'a cache that cannot be written does not open as if it could');
      message = out.error as string;
    } else {
      message = (await openError(file)).message;
    }
    chmodSync(dir, 0o755);
    chmodSync(file, 0o644);
    assert.ok(message.includes(file), message);
    assert.match(message, /readonly|read-only|unable to open|permission/i);
    // And the file is as it was.
    assert.deepEqual(await queryCacheFile(file, "SELECT name FROM sqlite_master WHERE name = 'a'"), [{ name: 'a' }]);
  });
});
