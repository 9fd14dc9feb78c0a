import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { AB_TABLES } from './helpers/ab-schema.js';
import { countSelects, createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The first ```ts block under the "## Quick start" heading of the README, verbatim. */
function quickStart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(match?.[1], 'README has a ```ts block under "## Quick start"');
  return match[1];
}

describe('README quick start', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const script = join(root, '.tmp', `quickstart-${process.pid}.mjs`);
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
    rmSync(script, { force: true });
  });

  it('runs exactly as printed and sends two origin SELECTs', async () => {
    const js = ts.transpileModule(quickStart(), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    }).outputText;
    // Inside the package folder, so `import ... from 'asyncdbview'` resolves to this package.
    mkdirSync(dirname(script), { recursive: true });
    writeFileSync(script, js);
    const { selects } = await countSelects(db, () =>
      promisify(execFile)(process.execPath, [script], { cwd: tmp.path, env: { ...process.env, MYSQL_URL: db.url } }),
    );
    assert.equal(selects, 2);
    assert.ok(readFileSync(tmp.file('cache.db')).length > 0, 'the cache file was written');
  });
});
