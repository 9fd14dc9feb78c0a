/**
 * A worker for test/local-changes-crash.test.ts: makes local changes `from` .. `to` - 1 of
 * test/helpers/local-ops.ts (put, patch, remove; every fourth a put of ~0.6 MB) one after another on a
 * cache file, each awaited before the next, until it is SIGKILLed. The store has the MariaDB origin, so a
 * patch or remove of a row not yet cached loads it first. It reports on stdout, one line each:
 *   `ready`     the store is open
 *   `making <n>` change n is about to be written
 *   `made <n>`  change n has been written (its transaction committed)
 *   `begin` / `commit`  a cache write transaction began / committed
 *   `finished`  all its changes are made (it then waits to be killed)
 *
 *   node build/test/workers/local-changes.js '{"origin":"mysql://…","cache":"….db","from":0,"to":40}'
 */
import { mysqlOrigin, openStore } from 'asyncdbview';
import { abSchema } from '../helpers/ab-schema.js';
import { testCache } from '../helpers/cache-driver.js';
import { localOp } from '../helpers/local-ops.js';

const config = JSON.parse(process.argv[2] as string) as { origin: string; cache: string; from: number; to: number };
const say = (line: string) => process.stdout.write(`${line}\n`);

const store = await openStore(abSchema, {
  origin: mysqlOrigin(config.origin),
  // A killed predecessor leaves its fetch claims behind: let them expire quickly.
  cache: testCache(config.cache, { claimMs: 200 }),
});
store.on('query', (e) => {
  if (e.target !== 'cache') return;
  if (/^\s*BEGIN/i.test(e.sql)) say('begin');
  else if (/^\s*COMMIT/i.test(e.sql)) say('commit');
});
say('ready');
for (let n = config.from; n < config.to; n++) {
  const op = localOp(n);
  say(`making ${n}`);
  // A view of its own per change, as separate requests of an application would make them.
  const view = store.view();
  if (op.kind === 'put') await view.B.put(op.row);
  else if (op.kind === 'patch') await view.B.patch(op.key, op.set);
  else await view.B.remove(op.key);
  view.close();
  say(`made ${n}`);
}
say('finished');
// Stays alive until killed: the test's kill may land after the last change too.
setInterval(() => undefined, 60_000);
