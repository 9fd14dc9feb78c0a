// `asyncdbview changes CACHE_FILE`: lists a cache file's local changes with conflicts, prints them as SQL, drops them; the schema read from the file or given.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mysqlOrigin, openStore } from 'asyncdbview';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { testCache } from './helpers/cache-driver.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { originWrites } from './helpers/origin-writes.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'dist', 'cli.js');

/** The quick start's schema as a module the command loads (inside the package, so it resolves 'asyncdbview'). */
const SCHEMA = `import { belongsTo, defineSchema, entity, hasMany, hasOne, Mode } from 'asyncdbview';
export default defineSchema({
  A: entity({ table: 'a', key: 'id', columns: { id: 'integer', name: 'text' }, relations: { bs: hasMany('B', 'a_id'), b: hasOne('B', 'a_id') } }),
  B: entity({ table: 'b', key: 'id', columns: { id: 'integer', name: 'text', a_id: 'integer' }, relations: { a: belongsTo('A', 'a_id', { mode: Mode.PREFER_CACHE }) } }),
});
`;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [CLI, ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

describe('asyncdbview changes', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const dir = join(root, '.tmp', `changes-${process.pid}`);
  const schema = join(dir, 'schema.mjs');
  before(async () => {
    db = await createTestDb(...AB_TABLES);
    mkdirSync(dir, { recursive: true });
    writeFileSync(schema, SCHEMA);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the changes with conflicts, prints them as SQL, and --discard drops them (CACHE_FILE or --cache, the schema read from the file or given)', async () => {
    const cache = tmp.file('changes.db');
    {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cache) });
      await using view = store.view();
      await view.A.many([1, 2]); // rows of another entity, complete
      await view.B.patch(1, { name: 'b1*' });
      await view.B.remove(2);
      await view.B.patch(3, { name: 'b3*' });
      await db.exec("UPDATE b SET name = 'changed' WHERE id = 1", 'DELETE FROM b WHERE id = 3');
      await using again = store.view();
      await again.B.many([1, 3], { nullForMissing: true }); // FRESHEN brings the changed and the deleted origin rows: conflicts
    }
    const writes1 = await originWrites(db);
    const marks = async () => {
      const f = await openSqlite(cache, true);
      try {
        return await f.all('SELECT kind, key, loaded_at FROM ever_loaded ORDER BY kind, key');
      } finally {
        await f.close();
      }
    };
    const marks0 = await marks();
    const listing = `3 local changes in ${cache}, 2 in conflict\n  patch  B 1 (name)  CONFLICT: the origin row changed since\n  remove B 2\n  patch  B 3 (name)  CONFLICT: deleted at the origin since\n`;
    for (const args of [[cache], ['--cache', cache], [cache, '--schema', schema], ['--schema', schema, '--cache', cache]]) {
      const list = await cli('changes', ...args);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, listing, args.join(' '));
    }
    assert.deepEqual(await marks(), marks0, 'listing (with the schema read from the file) leaves the file as it was');
    const statements = "UPDATE `b` SET `name` = 'b1*' WHERE `id` = 1;\nDELETE FROM `b` WHERE `id` = 2;\nUPDATE `b` SET `name` = 'b3*' WHERE `id` = 3;\n";
    assert.equal((await cli('changes', cache, '--sql')).stdout, statements);
    assert.equal((await cli('changes', '--cache', cache, '--schema', schema, '--sql')).stdout, statements);
    const json = await cli('changes', cache, '--json');
    assert.deepEqual((JSON.parse(json.stdout) as { key: number; conflict: boolean }[]).map((c) => [c.key, c.conflict]), [[1, true], [2, false], [3, true]]);

    // Usage errors: exit code 2 and a message saying what to give.
    const usage = async (args: string[], message: RegExp) => {
      const run = await cli('changes', ...args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
    };
    await usage([], /CACHE_FILE is required: asyncdbview changes CACHE_FILE/);
    await usage([cache, '--cache', cache], /give CACHE_FILE or --cache, not both/);
    await usage([cache, cache], /one CACHE_FILE expected, got 2/);
    await usage([cache, '--sql', '--discard'], /--sql and --discard cannot be combined/);
    await usage([tmp.file('none.db')], /no such cache file/);
    const notCache = tmp.file('not-a-cache.db');
    writeFileSync(notCache, 'hello');
    await usage([notCache], /cannot read the schema from .*not-a-cache\.db .*pass the schema module with --schema FILE/);

    const discard = await cli('changes', cache, '--discard');
    assert.equal(discard.stdout, `discarded 3 local changes in ${cache}\n`);
    assert.equal((await cli('changes', cache)).stdout, `0 local changes in ${cache}\n`);
    await using reopened = await openStore(abSchema, { origin: null, cache: testCache(cache) });
    await using offline = reopened.view();
    assert.equal((await offline.B(1)).name, 'changed', 'the origin row the load brought is back');
    assert.deepEqual((await offline.A.many([1, 2])).map((a) => a.name), ['a1', 'a2'], "another entity's rows and marks are untouched");
    const report = await reopened.verify();
    assert.equal(report.ok, true, report.problems.join('; '));
    assert.deepEqual(await originWrites(db), writes1, 'Com_insert/update/delete unchanged');
  });
});
