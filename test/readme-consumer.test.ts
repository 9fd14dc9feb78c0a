// The README quick start as a new TypeScript project compiles it: with the package.json and tsconfig.json
// the README gives (then run as emitted, on Node 20), and with a current `tsc --init` changed as it says.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import ts from 'typescript';
import { AB_TABLES } from './helpers/ab-schema.js';
import { ROOT } from './helpers/cli.js';
import { countSelects, createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const exec = promisify(execFile);

/** The fenced blocks of `lang` under the README's "## Quick start", in order, verbatim. */
function quickStartBlocks(lang: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Quick start\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] as string);
}

/** A project folder whose node_modules holds this package (and the @types it compiles against), as installed. */
function project(tmp: ReturnType<typeof tempDir>, name: string, packageJson: string, tsconfig?: string): string {
  const dir = join(tmp.path, name);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'asyncdbview'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
  writeFileSync(join(dir, 'package.json'), packageJson);
  if (tsconfig !== undefined) writeFileSync(join(dir, 'tsconfig.json'), tsconfig);
  mkdirSync(join(dir, 'src'));
  const [code] = quickStartBlocks('ts');
  assert.ok(code !== undefined, 'README has a ```ts block under "## Quick start"');
  writeFileSync(join(dir, 'src', 'index.ts'), code);
  return dir;
}

/** Compiles the project as `tsc -p dir` would; returns the diagnostics and what it emitted. */
function compile(dir: string): { errors: string[]; emitted: Map<string, string> } {
  const configPath = join(dir, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
  assert.equal(config.error, undefined);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dir, undefined, configPath);
  assert.deepEqual(parsed.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')), []);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const emitted = new Map<string, string>();
  const result = program.emit(undefined, (file, text) => emitted.set(file, text));
  const errors = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics].map(
    (d) => `${d.file?.fileName.slice(dir.length) ?? ''} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
  );
  return { errors, emitted };
}

describe('README quick start in a new TypeScript project', () => {
  const tmp = tempDir('adbv-consumer-');
  let db: TestDb | undefined;
  before(async () => {
    if (skip === undefined) db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db?.drop();
    tmp.remove();
  });

  it('the README gives a package.json and a tsconfig.json: ESM, a target Node 20 runs `await using` from', () => {
    const [pkg, tsconfig] = quickStartBlocks('json').map((b) => JSON.parse(b) as Record<string, any>);
    assert.equal(pkg?.type, 'module');
    assert.equal(tsconfig?.compilerOptions.target, 'es2022');
    assert.deepEqual(tsconfig?.compilerOptions.types, ['node']);
  });

  it('compiles with the README\'s package.json and tsconfig.json, and what it emits runs on this Node', { skip }, async () => {
    const [pkg, tsconfig] = quickStartBlocks('json') as [string, string];
    const dir = project(tmp, 'readme', pkg, tsconfig);
    const { errors, emitted } = compile(dir);
    assert.deepEqual(errors, []);
    const js = emitted.get(join(dir, 'dist', 'index.js'));
    assert.ok(js !== undefined, [...emitted.keys()].join(', '));
    assert.doesNotMatch(js, /\bawait using\b/, 'await using is compiled to plain JavaScript');
    for (const [file, text] of emitted) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, text);
    }
    const testDb = db as TestDb;
    const run = await countSelects(testDb, () => exec(process.execPath, [join(dir, 'dist', 'index.js')], { cwd: dir, env: { ...process.env, MYSQL_URL: testDb.url } }));
    assert.equal(run.value.stderr, '');
    assert.equal(run.selects, 2);
  });

  it('compiles under a current `tsc --init` with the two changes the README names (target es2022, types node)', async () => {
    const dir = project(tmp, 'init', JSON.stringify({ type: 'module' }));
    await exec(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--init'], { cwd: dir });
    const init = readFileSync(join(dir, 'tsconfig.json'), 'utf8');
    assert.match(init, /"noUncheckedIndexedAccess": true/, 'a current tsc --init turns noUncheckedIndexedAccess on');
    assert.match(init, /"target": "esnext"/);
    const changed = init.replace(/"target": "esnext"/, '"target": "es2022"').replace(/"types": \[\]/, '"types": ["node"]');
    assert.match(changed, /"types": \["node"\]/);
    writeFileSync(join(dir, 'tsconfig.json'), changed);
    const { errors, emitted } = compile(dir);
    assert.deepEqual(errors, []);
    const js = [...emitted].find(([file]) => file.endsWith('index.js'))?.[1];
    assert.ok(js !== undefined);
    assert.doesNotMatch(js, /\bawait using\b/);
  });
});
