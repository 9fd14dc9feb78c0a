/**
 * A worker process for test/processes.test.ts: opens a store on a shared cache file, says `ready`, waits
 * for `go` on stdin, then looks up its A keys and their bs from several views at once and prints one
 * `result <json>` line: its answers, the keys it sent to the origin per lookup kind, and any errors.
 *
 *   node build/test/workers/lookups.js '{"url":…,"file":…,"keys":[…],"views":20,"seed":1}'
 */
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { createInterface } from 'node:readline';
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { testCache } from '../helpers/cache-driver.js';
import { lookupKind, rng, shuffle, treeSchema } from '../helpers/tree.js';

interface Config {
  url: string;
  file: string;
  keys: number[];
  views: number;
  seed: number;
  claimMs?: number;
}

const config = JSON.parse(process.argv[2] as string) as Config;
const errors: string[] = [];
const sent: Record<string, number> = {};
let statements = 0;
const cacheErrors: string[] = [];

const store = await openStore(treeSchema, {
  origin: mysqlOrigin(config.url),
  cache: testCache(config.file, config.claimMs === undefined ? {} : { claimMs: config.claimMs }),
  mode: Mode.PREFER_CACHE,
});
store.on('query', (e) => {
  if (e.target === 'cache') {
    if (e.error !== undefined) cacheErrors.push(`${e.error.message} in ${e.sql.slice(0, 80)}`);
    return;
  }
  statements++;
  if (e.error !== undefined) errors.push(`origin: ${e.error.message}`);
  const kind = lookupKind(e.sql);
  sent[kind] = (sent[kind] ?? 0) + e.params;
});

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => lines.on('line', (l) => l.trim() === 'go' && resolve()));
lines.close();

const keys = shuffle(config.keys, rng(config.seed));
const per = Math.ceil(keys.length / config.views);
const answers: Record<number, [string, [number, string, number][]] | null> = {};
const t0 = performance.now();
await Promise.all(
  Array.from({ length: config.views }, async (_, v) => {
    const mine = keys.slice(v * per, (v + 1) * per);
    await using view = store.view();
    try {
      const as = await view.A.many(mine, { nullForMissing: true });
      const bss = await Promise.all(as.map((a) => (a === null ? null : a.bs)));
      as.forEach((a, i) => {
        answers[mine[i] as number] = a === null ? null : [a.name, (bss[i] ?? []).map((b) => [b.id, b.name, b.a_id] as [number, string, number])];
      });
    } catch (error) {
      errors.push(`view ${v}: ${(error as Error).stack ?? String(error)}`);
    }
  }),
);
const ms = performance.now() - t0;
await store.close();
// Which SQLite drivers this process loaded (better-sqlite3 only when its caches run on it).
const modules = Object.keys(createRequire(import.meta.url).cache);
const drivers = ['sqlite3', 'better-sqlite3'].filter((d) => modules.some((m) => m.includes(`${sep}node_modules${sep}${d}${sep}`)));
process.stdout.write(`result ${JSON.stringify({ answers, sent, statements, originQueries: store.stats.originQueries, errors, cacheErrors, ms, drivers })}\n`);
