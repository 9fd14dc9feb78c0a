/**
 * A worker for test/moved-rows-processes.test.ts: opens a store on a shared cache file with the moving
 * schema, prints `ready`, then for each `go <round>` line on stdin makes a round of lookups (a seeded
 * random half of them, each in its own view, in FRESHEN or PREFER_CACHE, several at once) and prints
 * `done <round> <errors as JSON>`; `close` closes the store and exits.
 */
import { createInterface } from 'node:readline';
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { testCache } from '../helpers/cache-driver.js';
import { MOVING_LOOKUPS, movingAnswer, movingSchema } from '../helpers/moving.js';
import { rng, shuffle } from '../helpers/tree.js';

const config = JSON.parse(process.argv[2] as string) as { url: string; file: string; seed: number };
const random = rng(config.seed);
const store = await openStore(movingSchema, { origin: mysqlOrigin(config.url), cache: testCache(config.file), mode: Mode.PREFER_CACHE });
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'close') break;
  const round = line.split(' ')[1];
  const names = shuffle(Object.keys(MOVING_LOOKUPS), random).slice(0, Math.ceil(Object.keys(MOVING_LOOKUPS).length / 2));
  const errors: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      await using view = store.view({ mode: random() < 0.5 ? Mode.FRESHEN : Mode.PREFER_CACHE });
      try {
        await movingAnswer(view, name);
      } catch (error) {
        errors.push(`${name}: ${(error as Error).message}`);
      }
    }),
  );
  process.stdout.write(`done ${round} ${JSON.stringify(errors)}\n`);
}
await store.close();
process.exit(0);
