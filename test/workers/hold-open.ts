/**
 * A worker for test/shared-file.test.ts: a process holding a store open on a cache file. It opens an
 * OFFLINE store with the quick-start schema (`variant` "ab") or one whose B has an extra column
 * ("b-extra"), prints `open` (or `error <message>`), then answers each `read` line on stdin with
 * `read <JSON of B 1..4's names>` (or `read-error <message>`) from the cache, until `close`.
 */
import { createInterface } from 'node:readline';
import { belongsTo, defineSchema, entity, hasMany, hasOne, Mode, openStore } from 'asyncdbview';
import { abSchema } from '../helpers/ab-schema.js';
import { testCache } from '../helpers/cache-driver.js';

const config = JSON.parse(process.argv[2] as string) as { file: string; variant: 'ab' | 'b-extra' };
const bExtra = defineSchema({
  A: entity({ table: 'a', key: 'id', columns: { id: 'integer', name: 'text' }, relations: { bs: hasMany('B', 'a_id'), b: hasOne('B', 'a_id') } }),
  B: entity({ table: 'b', key: 'id', columns: { id: 'integer', name: 'text', a_id: 'integer', extra: 'text?' }, relations: { a: belongsTo('A', 'a_id') } }),
});

try {
  const schema = config.variant === 'ab' ? abSchema : bExtra;
  const store = await openStore(schema as typeof abSchema, { origin: null, cache: testCache(config.file), mode: Mode.OFFLINE });
  process.stdout.write('open\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'close') {
      await store.close();
      process.stdout.write('closed\n');
      process.exit(0);
    }
    try {
      await using view = store.view();
      const bs = await view.B.many([1, 2, 3, 4]);
      process.stdout.write(`read ${JSON.stringify(bs.map((b) => b.name))}\n`);
    } catch (error) {
      process.stdout.write(`read-error ${(error as Error).message}\n`);
    }
  }
} catch (error) {
  process.stdout.write(`error ${(error as Error).message}\n`);
}
