import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { AB_TABLES } from './helpers/ab-schema.js';
import { countSelects, createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project, a consumer
 * type-checked against its types, the README quick start and the `asyncdbview` command run from there.
 *
 * sqlite3 has no prebuilt binary this machine can download, so a plain install compiles it from source
 * (minutes). By default the tarball is installed with --ignore-scripts and sqlite3's addon is copied from
 * this repository's own install (same version, checked); ADBV_PACK_FULL_INSTALL=1 installs with scripts.
 */
const skip = await mysqlSkipReason();
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const exec = promisify(execFile);
const FULL_INSTALL = process.env.ADBV_PACK_FULL_INSTALL === '1';
const DATED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z asyncdbview (.*)$/;

/** The first ```ts block under `heading` of the README, verbatim. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(heading)));
  assert.ok(match?.[1], `README has a \`\`\`ts block under "${heading}"`);
  return match[1];
}

const CONSUMER = `
import { defineSchema, entity, hasMany, belongsTo, openStore, sqliteCache, Mode, NotFoundError, type EntityOf } from 'asyncdbview';

const schema = defineSchema({
  A: entity({ table: 'a', key: 'id', columns: { id: 'integer', name: 'text' }, relations: { bs: hasMany('B', 'a_id') } }),
  B: entity({ table: 'b', key: 'id', columns: { id: 'integer', name: 'text', a_id: 'integer?' }, relations: { a: belongsTo('A', 'a_id') } }),
});

export async function names(): Promise<string[]> {
  await using store = await openStore(schema, { origin: null, cache: sqliteCache(), mode: Mode.OFFLINE });
  await using view = store.view();
  const a: EntityOf<(typeof schema)['entities'], 'A'> = await view.A(1);
  const bs = await a.bs;
  const parent = await bs[0]?.a;
  // @ts-expect-error name is a string
  const wrong: number = a.name;
  // @ts-expect-error the schema has no entity C
  view.C(1);
  return [a.name, ...(parent === null || parent === undefined ? [] : [parent.name]), String(wrong), String(NotFoundError.name)];
}
`;

describe('the packed package', () => {
  const tmp = tempDir('adbv-pack-');
  const project = join(tmp.path, 'project');
  let tarball = '';
  let db: TestDb | undefined;
  let files: string[] = [];
  const timings: Record<string, number> = {};

  before(async () => {
    let t0 = performance.now();
    const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.path], { cwd: root });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(packed !== undefined);
    tarball = join(tmp.path, packed.filename);
    files = packed.files.map((f) => f.path);
    timings.pack = performance.now() - t0;

    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    t0 = performance.now();
    const flags = ['--no-audit', '--no-fund', '--prefer-offline', ...(FULL_INSTALL ? [] : ['--ignore-scripts'])];
    await exec('npm', ['install', tarball, ...flags], { cwd: project, maxBuffer: 16 << 20 });
    if (!FULL_INSTALL) {
      const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'node_modules', 'sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
      assert.equal(version(project), version(root), 'the same sqlite3 as this repository, so its compiled addon fits');
      const addon = join('node_modules', 'sqlite3', 'build', 'Release', 'node_sqlite3.node');
      mkdirSync(dirname(join(project, addon)), { recursive: true });
      copyFileSync(join(root, addon), join(project, addon));
    }
    timings.install = performance.now() - t0;
    if (skip === undefined) db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db?.drop();
    tmp.remove();
    console.log(`# pack ${Math.round(timings.pack ?? 0)} ms, install ${Math.round(timings.install ?? 0)} ms${FULL_INSTALL ? ' (full, sqlite3 compiled)' : ' (--ignore-scripts, sqlite3 addon copied)'}`);
  });

  it('holds the built code, its types, the command and the README, and no tests, sources or maps', () => {
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'dist/debug-log.js']) assert.ok(files.includes(f), f);
    assert.deepEqual(files.filter((f) => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md'), []);
    assert.deepEqual(files.filter((f) => f.endsWith('.map')), []);
    const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'asyncdbview', 'package.json'), 'utf8'));
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['dataloader', 'mysql2', 'p-limit', 'sqlite3']);
    assert.deepEqual(pkg.peerDependencies, { 'better-sqlite3': '^12', debug: '^4' });
    assert.deepEqual(pkg.peerDependenciesMeta, { 'better-sqlite3': { optional: true }, debug: { optional: true } });
    for (const peer of ['debug', 'better-sqlite3']) assert.equal(existsSync(join(project, 'node_modules', peer)), false, `the optional peer ${peer} is not installed`);
    assert.equal(readFileSync(join(project, 'node_modules', 'asyncdbview', 'dist', 'cli.js'), 'utf8').split('\n')[0], '#!/usr/bin/env node');
  });

  it('type-checks a consumer against its types (NodeNext), mistakes included', () => {
    const file = join(project, 'consumer.ts');
    writeFileSync(file, CONSUMER);
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], skipLibCheck: false,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    assert.deepEqual(diagnostics, []);
    const resolved = program.getSourceFiles().map((f) => f.fileName).find((f) => f.endsWith('asyncdbview/dist/index.d.ts'));
    assert.ok(resolved?.startsWith(project), `types come from the installed package: ${resolved}`);
  });

  it('without better-sqlite3 installed, choosing it fails at open with how to install it; the default driver works', async () => {
    const script = join(project, 'drivers.mjs');
    writeFileSync(script, `
      import { defineSchema, entity, openStore, sqliteCache } from 'asyncdbview';
      const schema = defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer' }, relations: {} }) });
      const chosen = sqliteCache(':memory:', { driver: 'better-sqlite3' });
      console.log('made');
      await openStore(schema, { origin: null, cache: chosen }).then(() => console.log('opened'), (e) => console.log('rejected: ' + e.message));
      const store = await openStore(schema, { origin: null, cache: sqliteCache(':memory:') });
      console.log('default: ' + JSON.stringify(await store.cacheSql('SELECT 1 AS one')));
      await store.close();
    `);
    const { stdout } = await exec(process.execPath, [script], { cwd: project });
    assert.deepEqual(stdout.trim().split('\n'), [
      'made',
      "rejected: the cache driver 'better-sqlite3' needs the better-sqlite3 package, which is not installed: npm i better-sqlite3@12",
      'default: [{"one":1}]',
    ]);
  });

  it('runs the asyncdbview command from node_modules/.bin', async () => {
    const bin = join(project, 'node_modules', '.bin', 'asyncdbview');
    const { stdout } = await exec(bin, ['--help'], { cwd: project });
    assert.match(stdout, /^Usage: asyncdbview COMMAND/);
    const usage = await exec(bin, ['stats'], { cwd: project }).then(() => 0, (e: { code: number }) => e.code);
    assert.equal(usage, 2);
  });

  it('runs the README quick start, and DEBUG=asyncdbview logs without the debug package', { skip }, async () => {
    const script = join(project, 'quickstart.mjs');
    writeFileSync(script, ts.transpileModule(readmeBlock('## Quick start'), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText);
    const testDb = db as TestDb;
    const env: NodeJS.ProcessEnv = { ...process.env, MYSQL_URL: testDb.url };
    delete env.DEBUG;
    const quiet = await countSelects(testDb, () => exec(process.execPath, [script], { cwd: project, env }));
    assert.equal(quiet.selects, 2);
    assert.equal(quiet.value.stderr, '');
    assert.ok(existsSync(join(project, 'cache.db')));

    // DEBUG_HIDE_DATE is the debug package's: the stand-in writes dates all the same, showing it is the one at work.
    const logged = await exec(process.execPath, [script], { cwd: project, env: { ...env, DEBUG: 'asyncdbview', DEBUG_HIDE_DATE: '1' } });
    const lines = logged.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 2, logged.stderr);
    assert.match(lines[0] as string, DATED);
    assert.match(DATED.exec(lines[0] as string)?.[1] as string, /^origin \d+\.\dms 1 row 1 param: SELECT t\.`id`, t\.`name` FROM `a` t/);
    assert.match(DATED.exec(lines[1] as string)?.[1] as string, /^origin \d+\.\dms 3 rows 1 param: SELECT .* FROM `b` t/);

    const stats = await exec(join(project, 'node_modules', '.bin', 'asyncdbview'), ['stats', '--cache', join(project, 'cache.db'), '--json'], { cwd: project });
    const entities = Object.fromEntries((JSON.parse(stats.stdout).entities as { name: string; rows: number }[]).map((e) => [e.name, e.rows]));
    assert.deepEqual(entities, { A: 1, B: 3 });
  });
});
