import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Mode, openStore } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { abSchema } from './helpers/ab-schema.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';
import { rng } from './helpers/tree.js';

/** Kills per run: 15 in CI; ADBV_CRASH_KILLS=200 (say) for a longer hunt. */
const KILLS = Number(process.env.ADBV_CRASH_KILLS ?? 15);
/** Seed of the kill schedule (printed, so a failing schedule can be replayed with ADBV_CRASH_SEED). */
const SEED = Number(process.env.ADBV_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const A_COUNT = 3000;


interface BRow {
  id: number;
  name: string;
  a_id: number;
}

/** The origin's data, which never changes during the test: A 1..3000, A k has k % 11 Bs. */
function originData(): { as: Map<number, string>; bs: Map<number, BRow>; bsOf: Map<number, BRow[]> } {
  const as = new Map<number, string>();
  const bs = new Map<number, BRow>();
  const bsOf = new Map<number, BRow[]>();
  let id = 0;
  for (let k = 1; k <= A_COUNT; k++) {
    as.set(k, `a${k}`);
    const group: BRow[] = [];
    for (let j = 0; j < k % 11; j++) {
      const row = { id: ++id, name: `b${id} of a${k} ${'x'.repeat(k % 40)}`, a_id: k };
      bs.set(row.id, row);
      group.push(row);
    }
    bsOf.set(k, group);
  }
  return { as, bs, bsOf };
}

/** A running worker and what it last said. */
interface Worker {
  readonly child: ChildProcess;
  /** Lets it open the store and start merging. */
  go(): void;
  /** Resolves when the worker has printed `count` lines equal to `line`. */
  seen(line: string, count?: number): Promise<void>;
  /** `begin` after the last `commit`: a write transaction was open, as far as the worker had told. */
  readonly inTransaction: boolean;
  readonly begins: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startWorker(config: object): Worker {
  const script = fileURLToPath(new URL('./workers/crash-merger.js', import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const counts = new Map<string, number>();
  const waiting: { line: string; count: number; resolve: () => void }[] = [];
  let inTransaction = false;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const kind = line.startsWith('round ') ? 'round' : line;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    if (kind === 'begin') inTransaction = true;
    if (kind === 'commit') inTransaction = false;
    for (const w of [...waiting]) {
      if ((counts.get(w.line) ?? 0) >= w.count) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  return {
    child,
    exited,
    go: () => child.stdin!.end('go\n'),
    get inTransaction() {
      return inTransaction;
    },
    get begins() {
      return counts.get('begin') ?? 0;
    },
    seen(line, count = 1) {
      if ((counts.get(line) ?? 0) >= count) return Promise.resolve();
      return Promise.race([
        new Promise<void>((resolve) => waiting.push({ line, count, resolve })),
        exited.then(({ code, signal, stderr: err }) => {
          throw new Error(`crash worker exited (${code ?? signal}) before printing "${line}" ×${count}: ${err}`);
        }),
      ]);
    },
  };
}

describe('crash safety: a worker merging large batches is SIGKILLed at random moments', () => {
  const tmp = tempDir();
  const originFile = tmp.file('origin.db');
  const cacheFile = tmp.file('cache.db');
  const truth = originData();
  const tally = { kills: 0, midTransaction: 0, walAtReopen: 0, begins: 0, checkedRelationMarks: 0, checkedRows: 0 };
  /** Workers started by this test, killed in after() if a failure left one running. */
  const started: Worker[] = [];

  before(async () => {
    const f = await openSqlite(originFile);
    await f.exec('CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE TABLE b (id INTEGER PRIMARY KEY, name TEXT NOT NULL, a_id INTEGER NOT NULL); CREATE INDEX b_a ON b (a_id);');
    await f.run('INSERT INTO a (id, name) SELECT value ->> 0, value ->> 1 FROM json_each(?)', [JSON.stringify([...truth.as])]);
    await f.run('INSERT INTO b (id, name, a_id) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)', [
      JSON.stringify([...truth.bs.values()].map((b) => [b.id, b.name, b.a_id])),
    ]);
    await f.close();
  });
  after(async () => {
    for (const w of started) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill('SIGKILL');
        await w.exited;
      }
    }
    console.log(
      `# crash: seed ${SEED}; ${tally.kills} SIGKILLs (${tally.midTransaction} while a cache write transaction was open, ` +
        `per the worker's last word), ${tally.begins} write transactions begun in all, a WAL to recover at ${tally.walAtReopen} reopenings; ` +
        `${tally.checkedRelationMarks} relation marks and ${tally.checkedRows} cached rows checked against the origin: nothing lost or corrupted`,
    );
    tmp.remove();
  });

  /** Opens the cache after a kill: it must open, verify clean, and hold exactly the origin's rows for every mark. */
  async function check(killNo: number): Promise<{ marks: number }> {
    const wal = `${cacheFile}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) tally.walAtReopen++;
    await using store = await openStore(abSchema, { origin: null, cache: testCache(cacheFile), mode: Mode.OFFLINE });
    const report = await store.verify();
    assert.deepEqual(report.problems, [], `after kill ${killNo}: verify() finds no problem`);
    assert.equal(report.ok, true);

    const marks = await store.cacheSql('SELECT kind, key FROM ever_loaded');
    const aRows = new Map((await store.cacheSql('SELECT id, name FROM a')).map((r) => [r.id as number, r.name as string]));
    const bRows = await store.cacheSql('SELECT id, name, a_id FROM b ORDER BY a_id, id');
    // Every row the cache holds is the origin's row, marked or not.
    for (const [id, name] of aRows) assert.equal(name, truth.as.get(id), `after kill ${killNo}: cached A ${id}`);
    for (const r of bRows) assert.deepEqual({ id: r.id, name: r.name, a_id: r.a_id }, truth.bs.get(r.id as number), `after kill ${killNo}: cached B ${String(r.id)}`);
    tally.checkedRows += aRows.size + bRows.length;
    const cachedBsOf = new Map<number, number[]>();
    for (const r of bRows) {
      const list = cachedBsOf.get(r.a_id as number);
      if (list === undefined) cachedBsOf.set(r.a_id as number, [r.id as number]);
      else list.push(r.id as number);
    }
    const bIds = new Set(bRows.map((r) => r.id as number));
    for (const { kind, key } of marks) {
      const k = key as number;
      if (kind === 'A.bs') {
        // A relation mark for k: exactly the Bs the origin has for k, no more, no fewer.
        assert.deepEqual(cachedBsOf.get(k) ?? [], (truth.bsOf.get(k) ?? []).map((b) => b.id), `after kill ${killNo}: A ${k} .bs is marked complete`);
        tally.checkedRelationMarks++;
      } else if (kind === 'A') {
        assert.equal(aRows.get(k), truth.as.get(k), `after kill ${killNo}: A ${k} is marked (present or absent)`);
      } else if (kind === 'B') {
        assert.equal(bIds.has(k), truth.bs.has(k), `after kill ${killNo}: B ${k} is marked (present or absent)`);
      }
    }
    // And through the library, offline: a sample of marked relations answers exactly as the origin would.
    const bsMarks = marks.filter((m) => m.kind === 'A.bs').map((m) => m.key as number);
    await using view = store.view();
    for (const k of bsMarks.slice(0, 50)) {
      const a = await view.A(k);
      assert.deepEqual((await a.bs).map((b) => b.id), (truth.bsOf.get(k) ?? []).map((b) => b.id));
    }
    return { marks: marks.length };
  }

  it(`the cache file opens cleanly, verifies, and matches the origin for every mark after each of ${KILLS} kills`, { timeout: 30_000 + KILLS * 5_000 }, async () => {
    const random = rng(SEED);
    let marks = 0;
    const spawnWorker = (kill: number) => {
      const w = startWorker({ origin: originFile, cache: cacheFile, aCount: A_COUNT, seed: kill + SEED });
      started.push(w);
      return w;
    };
    let next = spawnWorker(1);
    for (let kill = 1; kill <= KILLS; kill++) {
      const worker = next;
      worker.go();
      await worker.seen('ready');
      if (kill % 2 === 1) {
        // Right after a write transaction began (the worker says so once BEGIN has run): mid-merge.
        await worker.seen('begin', 1 + Math.floor(random() * 4));
        await delay(Math.floor(random() * 8));
      } else {
        // Anywhere: fetching, merging, between rounds.
        await delay(Math.floor(random() * 300));
      }
      if (worker.inTransaction) tally.midTransaction++;
      assert.ok(worker.child.kill('SIGKILL'), 'the worker was alive to be killed');
      const exit = await worker.exited;
      assert.equal(exit.signal, 'SIGKILL', `the worker died of the kill, not of an error: ${exit.stderr}`);
      tally.kills++;
      tally.begins += worker.begins;
      // The next worker boots meanwhile, but touches the file only once told to go, after the check.
      if (kill < KILLS) next = spawnWorker(kill + 1);
      marks = (await check(kill)).marks;
    }
    assert.ok(tally.midTransaction >= 1, 'at least one kill landed while a write transaction was open');
    assert.ok(marks > 0, 'the workers did get work into the cache between kills');
  });
});
