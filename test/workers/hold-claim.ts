/**
 * A worker process for test/processes.test.ts that dies holding fetch claims. Two ways:
 *
 * - `{"how":"query", url, file, claimMs}`: runs a custom query (tag `slow`, params [1]) whose SQL sleeps on
 *   the origin, so the store has claimed the lookup in `adbv_fetching` and is mid-fetch; prints `claimed`
 *   once the claim is committed.
 * - `{"how":"insert", file, kind, keys, ms}`: writes claims for `keys` of `kind` straight into the cache
 *   file's `adbv_fetching`, expiring `ms` from now, as a process that crashed right after claiming would
 *   leave them; prints `claimed`.
 *
 * Either way it then hangs until killed.
 */
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { testCache } from '../helpers/cache-driver.js';
import { openSqlite } from '../helpers/sqlite.js';
import { treeSchema } from '../helpers/tree.js';

type Config =
  | { how: 'query'; url: string; file: string; claimMs: number }
  | { how: 'insert'; file: string; kind: string; keys: unknown[]; ms: number };

const config = JSON.parse(process.argv[2] as string) as Config;
setInterval(() => undefined, 60_000); // hang until killed

if (config.how === 'query') {
  const store = await openStore(treeSchema, { origin: mysqlOrigin(config.url), cache: testCache(config.file, { claimMs: config.claimMs }), mode: Mode.PREFER_CACHE });
  let claimed: number | undefined;
  let inTransaction = false;
  // Said once the claim has committed (before, another process cannot see it): at once for a claim sent
  // on its own (one statement, its own transaction), else at the COMMIT of the transaction it was in.
  store.on('query', (e) => {
    if (e.target !== 'cache' || e.error !== undefined) return;
    if (/^\s*BEGIN/i.test(e.sql)) inTransaction = true;
    else if (e.sql.includes('INTO adbv_fetching')) {
      if (inTransaction) claimed = e.rows;
      else process.stdout.write(`claimed ${e.rows}\n`);
    } else if (/^\s*(COMMIT|ROLLBACK)/i.test(e.sql)) {
      inTransaction = false;
      if (claimed !== undefined) process.stdout.write(`claimed ${claimed}\n`);
      claimed = undefined;
    }
  });
  const view = store.view();
  void view.query('A', { tag: 'slow', params: [1], sql: 'SELECT a.* FROM a WHERE a.id = ? AND SLEEP(30) = 0' }).catch((error: unknown) => {
    process.stdout.write(`error ${(error as Error).message}\n`);
  });
} else {
  // Let a store make the file's tables, then write the claims as another process would.
  const store = await openStore(treeSchema, { origin: null, cache: testCache(config.file) });
  await store.close();
  const db = await openSqlite(config.file);
  await db.exec('PRAGMA busy_timeout = 10000');
  await db.run(
    'INSERT INTO adbv_fetching (kind, key, owner, expires_at) SELECT ?, value, ?, ? FROM json_each(?)',
    [config.kind, `${process.pid}-crashed`, Date.now() + config.ms, JSON.stringify(config.keys)],
  );
  await db.close();
  process.stdout.write('claimed\n');
}
