import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AB_TABLES } from './helpers/ab-schema.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A program using the library as an application would: A 1 and its Bs from the origin (two statements), a
 * statement that fails, then — with the origin gone — a lookup of a stale A in OFFLINE_FALLBACK mode, which
 * falls back to the cache. It prints its store's origin statement count on stdout.
 */
const PROGRAM = `
import { defineSchema, Mode, mysqlOrigin, openStore, sqliteCache } from 'asyncdbview';
import { abSchema } from '../build/test/helpers/ab-schema.js';
const cache = sqliteCache(process.env.CACHE_FILE);
const store = await openStore(abSchema, { origin: mysqlOrigin(process.env.MYSQL_URL), cache, mode: Mode.FRESHEN });
const view = store.view();
const a = await view.A(1);
await a.bs;
await view.raw('SELECT no_such_column FROM a').catch(() => undefined);
const originQueries = store.stats.originQueries;
await store.close();
// maxAge 0: A 1 is stale, so OFFLINE_FALLBACK asks the origin, cannot reach it, and answers from the cache.
const stale = defineSchema({ ...abSchema.entities, A: { ...abSchema.entities.A, maxAge: 0 } });
const down = await openStore(stale, { origin: mysqlOrigin('mysql://root@127.0.0.1:1/none'), cache: sqliteCache(process.env.CACHE_FILE), mode: Mode.OFFLINE_FALLBACK });
await down.view().A(1).catch(() => undefined);
const fallbacks = down.stats.fallbacks;
await down.close();
console.log(JSON.stringify({ originQueries, fallbacks }));
`;

/** A line as the debug package writes it to a pipe: ISO date, namespace, message. */
const DATED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (asyncdbview(?::cache)?) (.*)$/;

describe('DEBUG=asyncdbview', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const script = join(root, '.tmp', `debug-log-${process.pid}.mjs`);
  before(async () => {
    db = await createTestDb(...AB_TABLES);
    // Inside the package folder, so `import ... from 'asyncdbview'` resolves to this package.
    mkdirSync(dirname(script), { recursive: true });
    writeFileSync(script, PROGRAM);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
    rmSync(script, { force: true });
  });

  let run = 0;
  async function runWith(env: Record<string, string>): Promise<{ stdout: { originQueries: number; fallbacks: number }; lines: string[] }> {
    const cacheFile = tmp.file(`cache-${run++}.db`);
    const base: NodeJS.ProcessEnv = { ...process.env, MYSQL_URL: db.url, CACHE_FILE: cacheFile };
    delete base.DEBUG;
    delete base.DEBUG_HIDE_DATE;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], { cwd: tmp.path, env: { ...base, ...env } }).catch((error: { stderr?: string }) => {
      throw new Error(`the program failed with DEBUG=${JSON.stringify(env.DEBUG)}:\n${error.stderr ?? String(error)}`);
    });
    return { stdout: JSON.parse(stdout), lines: stderr.split('\n').filter((l) => l !== '') };
  }

  it('logs each origin statement, a failed one and a fallback, one line each, through the debug package', async () => {
    const { stdout, lines } = await runWith({ DEBUG: 'asyncdbview' });
    assert.equal(stdout.originQueries, 3);
    assert.equal(stdout.fallbacks, 1);
    const parsed = lines.map((l) => DATED.exec(l));
    assert.ok(parsed.every((m) => m !== null && m[1] === 'asyncdbview'), `every line is a dated asyncdbview line:\n${lines.join('\n')}`);
    const messages = parsed.map((m) => (m as RegExpExecArray)[2] as string);
    const statements = messages.filter((m) => m.startsWith('origin '));
    assert.equal(statements.length, stdout.originQueries + 1, 'the three statements of the first store, and the failed connection of the second');
    assert.match(statements[3] as string, /^origin \d+\.\dms FAILED \(connect ECONNREFUSED .*\) 1 param: SELECT /);
    assert.match(statements[0] as string, /^origin \d+\.\dms 1 row 1 param: SELECT t\.`id`, t\.`name` FROM `a` t WHERE t\.`id` IN \(\?\)$/);
    assert.match(statements[1] as string, /^origin \d+\.\dms 3 rows 1 param: SELECT .* FROM `b` t WHERE t\.`a_id` IN \(\?\)/);
    assert.match(statements[2] as string, /^origin \d+\.\dms FAILED \(.*no_such_column.*\) 0 params: SELECT no_such_column FROM a$/);
    // The event names the kind as the in-flight table does (`e:A`), not as stats.lookups does (`A`): either is logged as given.
    assert.ok(messages.some((m) => /^fallback (e:)?A: 1 lookup answered from the cache \(.*ECONNREFUSED.*\)$/.test(m)), `a fallback line:\n${messages.join('\n')}`);
  });

  it('adds cache statements under asyncdbview:cache, and the debug package formats them (DEBUG_HIDE_DATE)', async () => {
    const { lines } = await runWith({ DEBUG: 'asyncdbview*', DEBUG_HIDE_DATE: '1' });
    assert.ok(lines.every((l) => /^asyncdbview(:cache)? /.test(l)), `no dates, as the debug package does with DEBUG_HIDE_DATE:\n${lines.join('\n')}`);
    assert.ok(lines.some((l) => l.startsWith('asyncdbview:cache cache ') && l.endsWith(': BEGIN IMMEDIATE')));
    assert.ok(lines.some((l) => l.startsWith('asyncdbview origin ')));
  });

  it('logs nothing without DEBUG, for other namespaces, or with asyncdbview excluded', async () => {
    for (const DEBUG of ['', 'express:*', '*,-asyncdbview,-asyncdbview:cache']) {
      const { stdout, lines } = await runWith(DEBUG === '' ? {} : { DEBUG });
      assert.equal(stdout.originQueries, 3, `DEBUG=${JSON.stringify(DEBUG)}`);
      assert.deepEqual(lines.filter((l) => l.includes('asyncdbview')), [], `DEBUG=${JSON.stringify(DEBUG)}: ${lines.join('\n')}`);
    }
  });
});
