/**
 * A worker process for test/crash.test.ts: merges large FRESHEN batches from a SQLite origin file into a cache
 * file, round after round, until it is killed. It loads, then waits for a line on stdin (so the test can start
 * it while checking the file after the previous kill), then opens the store. It reports on stdout, one line each:
 *   `ready`     the store is open
 *   `begin`     a cache write transaction has begun
 *   `commit`    it has committed
 *   `round <n>` a round (A lookups, their bs, some B lookups) is done
 *
 *   node build/test/workers/crash-merger.js '{"origin":…,"cache":…,"aCount":3000,"seed":1}'
 */
import { once } from 'node:events';
import { Mode, openStore, sqliteOrigin } from 'asyncdbview';
import { testCache } from '../helpers/cache-driver.js';
import { abSchema } from '../helpers/ab-schema.js';

interface Config {
  origin: string;
  cache: string;
  /** A keys 1..aCount exist at the origin; some asked beyond that are absent. */
  aCount: number;
  seed: number;
}

const config = JSON.parse(process.argv[2] as string) as Config;
const say = (line: string) => process.stdout.write(line + '\n');

await once(process.stdin, 'data');
process.stdin.destroy();
const store = await openStore(abSchema, {
  origin: sqliteOrigin(config.origin),
  // A killed predecessor leaves its fetch claims behind: let them expire quickly.
  cache: testCache(config.cache, { claimMs: 200 }),
  mode: Mode.FRESHEN,
});
store.on('query', (e) => {
  if (e.target !== 'cache') return;
  if (/^\s*BEGIN/i.test(e.sql)) say('begin');
  else if (/^\s*COMMIT/i.test(e.sql)) say('commit');
});
say('ready');

// Rounds walk over the keys from a seed-dependent start, 1,500 A keys (and their ~7,500 Bs) a round.
const span = 1500;
for (let round = 0; ; round++) {
  const start = 1 + ((config.seed * 977 + round * 1100) % (config.aCount + 200));
  const keys = Array.from({ length: span }, (_, i) => start + i);
  const view = store.view();
  const as = await view.A.many(keys, { nullForMissing: true });
  await view.preload(as.filter((a) => a !== null), { bs: true });
  const bKeys = Array.from({ length: 400 }, (_, i) => start * 5 + i * 3);
  await view.B.many(bKeys, { nullForMissing: true });
  view.close();
  say(`round ${round}`);
}
