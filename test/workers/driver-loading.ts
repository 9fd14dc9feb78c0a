/**
 * A worker process for test/cache-driver.test.ts: prints, one line each, whether better-sqlite3 has been
 * loaded into this process after each step, as `<step> true|false`:
 *   `imported`  asyncdbview imported
 *   `sqlite3`   a store opened and closed on the default driver
 *   `chosen`    `sqliteCache(…, { driver: 'better-sqlite3' })` called, not opened yet
 *   `opened`    that store opened and closed
 */
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { defineSchema, entity, openStore, sqliteCache } from 'asyncdbview';

const require = createRequire(import.meta.url);
const needle = `${sep}node_modules${sep}better-sqlite3${sep}`;
// better-sqlite3 is CommonJS: imported from ESM or required, it lands in the CommonJS module cache.
const say = (step: string) => process.stdout.write(`${step} ${Object.keys(require.cache).some((k) => k.includes(needle))}\n`);

say('imported');
const schema = defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer' }, relations: {} }) });
{
  await using _store = await openStore(schema, { origin: null, cache: sqliteCache() });
}
say('sqlite3');
const cache = sqliteCache(':memory:', { driver: 'better-sqlite3' });
say('chosen');
{
  await using _store = await openStore(schema, { origin: null, cache });
}
say('opened');
