/**
 * Rows that move take their marks with them, with several processes on one cache file: worker processes
 * make rounds of lookups (FRESHEN and PREFER_CACHE mixed, overlapping on the file) while the origin steps
 * through known states (each set up in one transaction), a change landing while each round is under way. After every round, every lookup
 * read OFFLINE from the file is IsOfflineError or exactly the answer the origin gave in one of its states.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { MOVING_LOOKUPS, MOVING_STATES, MOVING_TABLES, movingAnswer, movingSchema } from './helpers/moving.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { startWorker, type Worker } from './helpers/worker-process.js';

const skip = await mysqlSkipReason();
const PROCESSES = 3;
const CYCLES = 2;

describe('moved rows across processes sharing a file', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...MOVING_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it(`${PROCESSES} processes, the origin stepping through ${MOVING_STATES.length} states: every offline answer is one of those states`, async () => {
    // Each state's answers, from the origin itself (a FRESHEN store with a throwaway in-memory cache).
    const truths: Record<string, unknown>[] = [];
    for (const state of MOVING_STATES) {
      await db.exec('START TRANSACTION', ...state, 'COMMIT');
      await using store = await openStore(movingSchema, { origin: mysqlOrigin(db.url), mode: Mode.FRESHEN });
      const truth: Record<string, unknown> = {};
      for (const name of Object.keys(MOVING_LOOKUPS)) {
        await using view = store.view();
        truth[name] = await movingAnswer(view, name);
      }
      truths.push(truth);
    }
    await db.exec('START TRANSACTION', ...(MOVING_STATES[0] as string[]), 'COMMIT');
    const file = tmp.file('moving.db');
    const workers: Worker[] = [];
    let compared = 0;
    let offline = 0;
    try {
      for (let p = 0; p < PROCESSES; p++) workers.push(startWorker('moving-lookups.js', { url: db.url, file, seed: p + 1 }));
      await Promise.all(workers.map((w) => w.line('ready')));
      let round = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        for (let s = 0; s < MOVING_STATES.length; s++) {
          round++;
          // Every worker starts its round, and the origin moves to the next state while they run.
          for (const w of workers) w.child.stdin!.write(`go ${round}\n`);
          await db.exec('START TRANSACTION', ...(MOVING_STATES[(s + 1) % MOVING_STATES.length] as string[]), 'COMMIT');
          const done = await Promise.all(workers.map((w) => w.line(`done ${round} `)));
          assert.deepEqual(done, workers.map(() => '[]'), `round ${round}: no lookup failed`);
          await using store = await openStore(movingSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
          for (const name of Object.keys(MOVING_LOOKUPS)) {
            await using view = store.view();
            const got = await movingAnswer(view, name);
            compared++;
            if (got === 'IsOfflineError') {
              offline++;
              continue;
            }
            assert.ok(
              truths.some((t) => JSON.stringify(t[name]) === JSON.stringify(got)),
              `round ${round}: offline ${name} answered ${JSON.stringify(got)}, which the origin never had (${truths.map((t) => JSON.stringify(t[name])).join(' / ')})`,
            );
          }
          assert.deepEqual((await store.verify()).problems, [], `round ${round}: every mark backed`);
        }
      }
      for (const w of workers) w.child.stdin!.write('close\n');
      await Promise.all(workers.map((w) => w.exited));
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
    }
    console.log(`# moved rows across processes: ${PROCESSES} processes × ${MOVING_STATES.length} origin states × ${CYCLES} cycles, ${compared} offline answers compared (${offline} IsOfflineError), none a mix`);
  });
});
