// The README's "Local changes and whole tables" section: its code type-checks and runs as printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { AB_TABLES } from './helpers/ab-schema.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { originWrites } from './helpers/origin-writes.js';
import { tempDir } from './helpers/tmp.js';
import { typeErrors } from './helpers/type-errors.js';

const skip = await mysqlSkipReason();
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HEADING = '## Local changes and whole tables';

/** The ```ts blocks of the section, in order, as one program. */
function examples(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${HEADING}\n`);
  assert.ok(start >= 0, `README has a "${HEADING}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const blocks = [...readme.slice(start + 1, end < 0 ? undefined : end + 1).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  assert.ok(blocks.length > 0, 'the section has ```ts blocks');
  return blocks.join('\n');
}

describe('README: Local changes and whole tables', () => {
  it('the example shows put, patch, remove, all, local: false, localChanges({ sql: true }) and discardLocalChanges, and type-checks', () => {
    const code = examples();
    for (const needle of ['.put(', '.patch(', '.remove(', '.all()', 'local: false', 'localChanges({ sql: true })', 'discardLocalChanges(']) assert.ok(code.includes(needle), needle);
    assert.deepEqual(typeErrors(code, '__readme_local_probe__', { noUncheckedIndexedAccess: false }), []);
  });

  describe('run exactly as printed', { skip }, () => {
    let db: TestDb;
    const tmp = tempDir();
    const script = join(root, '.tmp', `readme-local-${process.pid}.mjs`);
    before(async () => {
      db = await createTestDb(...AB_TABLES.map((s) => s.replace(", (3, 'a3')", '')));
    });
    after(async () => {
      await db.drop();
      tmp.remove();
      rmSync(script, { force: true });
    });

    it('runs to the end, prints the statements, and the origin is not written', async () => {
      const js = ts.transpileModule(examples(), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
      mkdirSync(dirname(script), { recursive: true });
      writeFileSync(script, js);
      const writes0 = await originWrites(db);
      const run = await promisify(execFile)(process.execPath, [script], { cwd: tmp.path, env: { ...process.env, MYSQL_URL: db.url } }).catch(
        (error: { stderr?: string; message: string }) => assert.fail(`the example failed:\n${error.stderr ?? error.message}`),
      );
      assert.equal(run.stderr, '');
      assert.equal(run.stdout, "INSERT INTO `b` (`id`, `name`, `a_id`) VALUES (5, 'b5', 1);\nUPDATE `b` SET `a_id` = 1 WHERE `id` = 4;\nDELETE FROM `b` WHERE `id` = 2;\n");
      assert.deepEqual(await originWrites(db), writes0, 'Com_insert/update/delete unchanged');
    });
  });
});
