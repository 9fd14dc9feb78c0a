/**
 * A worker for test/schema-change.test.ts: opens an OFFLINE store on a cache file (as whatever user it runs as)
 * and prints one JSON line: `{"opened":true}` or `{"error":"<message>"}`.
 *
 *   node build/test/workers/open-cache.js /path/to/cache.db
 */
import { Mode, openStore } from 'asyncdbview';
import { testCache } from '../helpers/cache-driver.js';
import { abSchema } from '../helpers/ab-schema.js';

const file = process.argv[2] as string;
try {
  const store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
  await store.close();
  process.stdout.write(JSON.stringify({ opened: true }) + '\n');
} catch (error) {
  process.stdout.write(JSON.stringify({ error: (error as Error).message }) + '\n');
}
