import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { typeErrors } from './helpers/type-errors.js';

const skip = await mysqlSkipReason();
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HEADING = '## Arbitrary SQL and preloading';

/** The README section, from its heading to the next `## ` heading. */
function section(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${HEADING}\n`);
  assert.ok(start >= 0, `README has a "${HEADING}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start + 1, end < 0 ? undefined : end + 1);
}

/** The ```ts blocks of the section, verbatim, in order: they run as one program. */
function examples(): string {
  const blocks = [...section().matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  assert.ok(blocks.length > 0, 'the section has ```ts blocks');
  return blocks.join('\n');
}

/** The tables the examples read: the quick start's a and b, plus c, tags and a composite-key pair. */
const TABLES = [
  'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, a_id INT NOT NULL, KEY (a_id))',
  'CREATE TABLE c (id INT PRIMARY KEY, b_id INT NOT NULL, KEY (b_id))',
  'CREATE TABLE tag (id INT PRIMARY KEY, label VARCHAR(100) NOT NULL)',
  'CREATE TABLE a_tags (a_id INT NOT NULL, tag_id INT NOT NULL, PRIMARY KEY (a_id, tag_id), KEY (tag_id))',
  'CREATE TABLE region (country CHAR(2) NOT NULL, code VARCHAR(3) NOT NULL, name VARCHAR(100) NOT NULL, PRIMARY KEY (country, code))',
  'CREATE TABLE city (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, country CHAR(2) NOT NULL, region_code VARCHAR(3) NOT NULL, KEY (country, region_code))',
  "INSERT INTO a VALUES (1, 'a1'), (2, 'a2')",
  "INSERT INTO b VALUES (1, 'b1', 1), (2, 'b2', 1), (3, 'b3', 1), (4, 'b4', 2)",
  'INSERT INTO c VALUES (1, 1), (2, 1), (3, 2), (4, 4)',
  "INSERT INTO tag VALUES (1, 'red'), (2, 'blue')",
  'INSERT INTO a_tags VALUES (1, 2), (1, 1), (2, 1)',
  "INSERT INTO region VALUES ('FR', 'IDF', 'Ile-de-France'), ('FR', 'PAC', 'PACA'), ('DE', 'BY', 'Bayern')",
  "INSERT INTO city VALUES (1, 'Paris', 'FR', 'IDF'), (2, 'Nice', 'FR', 'PAC'), (3, 'Munich', 'DE', 'BY')",
];

describe('README: Arbitrary SQL and preloading', () => {
  it('comes right after the Concepts section', () => {
    const headings = readFileSync(join(root, 'README.md'), 'utf8').split('\n').filter((l) => l.startsWith('## '));
    assert.equal(headings[headings.indexOf('## Concepts') + 1], HEADING);
  });

  it('shows each feature: query, raw, cacheSql, many, preload, include, manyToMany, composite keys, refresh, refreshAll, maxAge', () => {
    const code = examples();
    for (const needle of ['view.query(', 'view.raw(', 'store.cacheSql(', '.many(', 'view.preload(', 'manyToMany(', "key: ['country', 'code']", "view.Region(['FR', 'IDF'])", 'view.refresh(', 'store.refreshAll(', 'maxAge', 'Mode.OFFLINE']) {
      assert.ok(code.includes(needle), `the examples use ${needle}`);
    }
    assert.match(section(), /\{ include \}/, 'the include option is described');
  });

  it('the examples type-check (strict, as a user would compile them)', () => {
    // A user's usual strict settings; the test tsconfig's noUncheckedIndexedAccess would flag `[a2, a1] = ...`.
    const errors = typeErrors(examples(), '__readme_sql_probe__', { noUncheckedIndexedAccess: false });
    assert.deepEqual(errors, []);
  });

  describe('run exactly as printed', { skip }, () => {
    let db: TestDb;
    const tmp = tempDir();
    const script = join(root, '.tmp', `readme-sql-${process.pid}.mjs`);
    before(async () => {
      db = await createTestDb(...TABLES);
    });
    after(async () => {
      await db.drop();
      tmp.remove();
      rmSync(script, { force: true });
    });

    it('runs to the end against a database with the tables it names, and leaves the cache it says', async () => {
      const js = ts.transpileModule(examples(), {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      }).outputText;
      // Inside the package folder, so `import ... from 'asyncdbview'` resolves to this package.
      mkdirSync(dirname(script), { recursive: true });
      writeFileSync(script, js);
      const run = await promisify(execFile)(process.execPath, [script], { cwd: tmp.path, env: { ...process.env, MYSQL_URL: db.url } }).catch(
        (error: { stderr?: string; message: string }) => assert.fail(`the examples failed:\n${error.stderr ?? error.message}`),
      );
      assert.equal(run.stderr, '');
      assert.ok(readFileSync(tmp.file('sql.db')).length > 0, 'the cache file was written');
      const [rows] = await db.admin.query('SELECT COUNT(*) AS n FROM b');
      assert.equal(Number((rows as { n: number }[])[0]?.n), 4, 'the origin is untouched');
    });
  });
});
