// Local changes survive SIGKILL all or nothing: a worker making put/patch/remove changes (some large) is killed, and the file holds each change wholly or not at all.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Mode, NotFoundError, openStore, type Row } from 'asyncdbview';
import { abSchema } from './helpers/ab-schema.js';
import { testCache } from './helpers/cache-driver.js';
import { expectedChange, localOpsTables, ORIGIN_BS, opKey, originB, type ExpectedChange } from './helpers/local-ops.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { originWrites } from './helpers/origin-writes.js';
import { tempDir } from './helpers/tmp.js';
import { rng } from './helpers/tree.js';

const skip = await mysqlSkipReason();
/** Workers, each killed once; each makes up to PER changes of its own. */
const KILLS = 7;
const PER = 12; // a multiple of 4: every round has its large puts
/** Seed of the kill moments (printed, so a failing schedule can be replayed with ADBV_LOCAL_CRASH_SEED). */
const SEED = Number(process.env.ADBV_LOCAL_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));


/** A running worker: the lines it printed so far, and a wait for an exact one. */
interface Worker {
  readonly child: ChildProcess;
  seen(line: string): Promise<void>;
  /** The last change it reported made (-1: none yet). */
  readonly lastMade: number;
  /** `begin` after the last `commit`: a write transaction was open, as far as the worker had told. */
  readonly inTransaction: boolean;
  /** How many times it printed `line`. */
  count(line: string): number;
  /** Resolves once it has printed `line` `count` times. */
  seenTimes(line: string, count: number): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startWorker(config: { origin: string; cache: string; from: number; to: number }): Worker {
  const script = fileURLToPath(new URL('./workers/local-changes.js', import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const counts = new Map<string, number>();
  const waiting: { line: string; count: number; resolve: () => void }[] = [];
  let lastMade = -1;
  let inTransaction = false;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  createInterface({ input: child.stdout! }).on('line', (line) => {
    counts.set(line, (counts.get(line) ?? 0) + 1);
    if (line.startsWith('made ')) lastMade = Number(line.slice(5));
    if (line === 'begin') inTransaction = true;
    if (line === 'commit') inTransaction = false;
    for (const w of waiting.filter((x) => x.line === line && x.count <= (counts.get(line) ?? 0))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    child,
    exited,
    get lastMade() {
      return lastMade;
    },
    get inTransaction() {
      return inTransaction;
    },
    count: (line) => counts.get(line) ?? 0,
    seenTimes(line, count) {
      if ((counts.get(line) ?? 0) >= count) return Promise.resolve();
      return Promise.race([
        new Promise<void>((resolve) => waiting.push({ line, count, resolve })),
        exited.then(({ code, signal, stderr: err }) => {
          throw new Error(`local-changes worker exited (${code ?? signal}) before printing "${line}" ×${count}: ${err}`);
        }),
      ]);
    },
    seen(line) {
      return this.seenTimes(line, 1);
    },
  };
}

/** A listed change in the fields compared, whole rows made plain. */
const plain = (c: { entity: string; key: unknown; kind: string; columns?: readonly string[]; base: Row | null | undefined; local: Row | null }): ExpectedChange =>
  ({ entity: c.entity as 'B', key: c.key as number, kind: c.kind as ExpectedChange['kind'], columns: c.columns, base: c.base as Row | null, local: c.local });

describe('local changes and SIGKILL: each change is in the file wholly or not at all', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const cacheFile = tmp.file('local-crash.db');
  const started: Worker[] = [];
  const tally = { kills: 0, midTransaction: 0, made: 0, cut: 0 };
  before(async () => {
    db = await createTestDb(...localOpsTables());
  });
  after(async () => {
    for (const w of started) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill('SIGKILL');
        await w.exited;
      }
    }
    console.log(
      `# local-changes crash: seed ${SEED}; ${tally.kills} SIGKILLs (${tally.midTransaction} while a cache write transaction was open, per the worker's last word); ` +
        `${tally.made} changes found whole, ${tally.cut} cut off wholly`,
    );
    await db.drop();
    tmp.remove();
  });

  /**
   * Opens the file after kill `round` (offline) and checks it against the changes `earlier` held after
   * the earlier rounds and a prefix of this round's. Returns how many of this round's changes it holds.
   */
  async function check(round: number, earlier: readonly number[], reported: number): Promise<number> {
    await using store = await openStore(abSchema, { origin: null, cache: testCache(cacheFile), mode: Mode.OFFLINE });
    const listed = (await store.localChanges()).map(plain);
    const from = round * PER;
    // This round's changes in the file: a prefix of those the worker began (each touches a key of its own).
    const held = new Set(listed.map((c) => c.key));
    let n = 0;
    while (n < PER && held.has(opKey(from + n))) n++;
    for (let i = n; i < PER; i++) assert.equal(held.has(opKey(from + i)), false, `round ${round}: change ${from + i} is held but ${from + n} is not`);
    assert.ok(n >= reported + 1 - from, `round ${round}: the ${reported + 1 - from} changes reported made are held (${n})`);
    // Exactly the changes made so far, in the order made, each with the origin row it was made against.
    const expected = [...earlier, ...Array.from({ length: n }, (_, i) => from + i)].map(expectedChange);
    assert.equal(listed.length, expected.length, `round ${round}: as many changes as made`);
    listed.forEach((c, i) => assert.deepEqual(c, expected[i], `round ${round}: change ${i} (B ${c.key})`));
    assert.ok(listed.every((c) => c.base !== undefined), 'every change knows the origin row it was made against');
    assert.deepEqual((await store.localChanges()).filter((c) => c.conflict), [], 'no conflict: the origin did not change');

    // No half: every row bearing a change's marker has its change record and vice versa (verify checks the latter too).
    const report = await store.verify();
    assert.deepEqual(report.problems, [], `round ${round}: verify() finds no problem`);
    assert.equal(report.ok, true);
    const marked = await store.cacheSql("SELECT id, substr(name, 1, 12) AS head, length(name) AS len FROM b WHERE name GLOB 'm*' OR name GLOB 'p*' ORDER BY id");
    const shownLocal = expected.filter((c) => c.local !== null);
    assert.deepEqual(
      marked.map((r) => [r.id, r.head, r.len]),
      shownLocal.map((c) => [c.key, (c.local?.name as string).slice(0, 12), (c.local?.name as string).length]).sort((a, b) => (a[0] as number) - (b[0] as number)),
      `round ${round}: the rows bearing markers are exactly the local rows`,
    );
    const records = await store.cacheSql("SELECT key, kind FROM adbv_local WHERE entity = 'B' ORDER BY seq");
    assert.deepEqual(records.map((r) => [r.key, r.kind]), expected.map((c) => [c.key, c.kind]), `round ${round}: adbv_local holds one record per change`);

    // What an OFFLINE view shows agrees with the listing: the local row, or absent for a remove.
    await using view = store.view();
    for (const c of expected) {
      if (c.local === null) await assert.rejects(view.B(c.key), NotFoundError, `round ${round}: B ${c.key} removed`);
      else {
        const b = await view.B(c.key);
        assert.deepEqual({ id: b.id, name: b.name, a_id: b.a_id }, c.local, `round ${round}: B ${c.key} as changed`);
      }
    }
    if (n < PER) {
      // The change cut off (if the worker had begun it) left nothing of itself: the row, if cached, is the origin's.
      const key = opKey(from + n);
      const row = (await store.cacheSql('SELECT id, name, a_id FROM b WHERE id = ?', [key]))[0];
      if (row !== undefined) {
        assert.ok(key <= ORIGIN_BS, `round ${round}: B ${key}, which only the cut-off change makes, is not in the file`);
        assert.deepEqual({ ...row }, originB(key), `round ${round}: B ${key} is the origin's row`);
      }
    }
    return n;
  }

  it(`after each of ${KILLS} kills the file lists exactly a prefix of the changes made, each whole, as its rows show them; the origin is never written`, { timeout: 120_000 }, async () => {
    const writes0 = await originWrites(db);
    const random = rng(SEED);
    // The changes the file holds from earlier rounds (each round's changes touch keys of their own).
    const held: number[] = [];
    for (let round = 0; round < KILLS; round++) {
      const from = round * PER;
      const worker = startWorker({ origin: db.url, cache: cacheFile, from, to: from + PER });
      started.push(worker);
      await worker.seen('ready');
      // Kill somewhere: soon after the start; right after a transaction of a large put (every fourth
      // change) began or committed — its lookup's merge or the change's own write; or after some change was made.
      const at = from + Math.floor(random() * PER);
      if (round === 0) await delay(Math.floor(random() * 30));
      else if (round % 2 === 1) {
        await worker.seen(`making ${at - (at % 4) + 3}`); // PER and from are multiples of 4
        const line = random() < 0.5 ? 'begin' : 'commit';
        // How many transactions the rest takes depends on how the cache groups its writes: a worker that
        // finishes first is killed after its last change.
        await Promise.race([worker.seenTimes(line, worker.count(line) + 1 + Math.floor(random() * 2)), worker.seen('finished')]);
        await delay(Math.floor(random() * 4));
      } else await worker.seen(`made ${at}`);
      if (worker.inTransaction) tally.midTransaction++;
      const reported = worker.lastMade;
      assert.ok(worker.child.kill('SIGKILL'), 'the worker was alive to be killed');
      const exit = await worker.exited;
      assert.equal(exit.signal, 'SIGKILL', `the worker died of the kill, not of an error: ${exit.stderr}`);
      tally.kills++;
      const n = await check(round, held, reported);
      held.push(...Array.from({ length: n }, (_, i) => from + i));
      tally.made += n;
      if (n < PER) tally.cut++;
    }
    assert.deepEqual(await originWrites(db), writes0, 'Com_insert/update/delete unchanged');
  });
});
