// `asyncdbview changes`: lists a cache file's local changes with conflicts, prints them as SQL, drops them.
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

  it('lists the changes with conflicts, prints them as SQL, and --discard drops them', async () => {
    const cache = tmp.file('changes.db');
    {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cache) });
      await using view = store.view();
      await view.B.patch(1, { name: 'b1*' });
      await view.B.remove(2);
      await db.exec("UPDATE b SET name = 'changed' WHERE id = 1");
      await using again = store.view();
      await again.B(1); // FRESHEN brings the changed origin row: a conflict
    }
    const list = await cli('changes', '--cache', cache, '--schema', schema);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, `2 local changes in ${cache}, 1 in conflict\n  patch  B 1 (name)  CONFLICT: the origin row changed since\n  remove B 2\n`);
    const sql = await cli('changes', '--cache', cache, '--schema', schema, '--sql');
    assert.equal(sql.stdout, "UPDATE `b` SET `name` = 'b1*' WHERE `id` = 1;\nDELETE FROM `b` WHERE `id` = 2;\n");
    const json = await cli('changes', '--cache', cache, '--schema', schema, '--json');
    assert.deepEqual((JSON.parse(json.stdout) as { key: number; conflict: boolean }[]).map((c) => [c.key, c.conflict]), [[1, true], [2, false]]);
    assert.equal((await cli('changes', '--cache', cache, '--schema', schema, '--sql', '--discard')).code, 2);
    const discard = await cli('changes', '--cache', cache, '--schema', schema, '--discard');
    assert.equal(discard.stdout, `discarded 2 local changes in ${cache}\n`);
    assert.equal((await cli('changes', '--cache', cache, '--schema', schema)).stdout, `0 local changes in ${cache}\n`);
  });
});
