import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { defineSchema, entity, Mode, mysqlOrigin, NotFoundError, openStore, sqliteCache, type QueryEvent } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { countSelects, createTestDb, MYSQL_HOST, MYSQL_PORT, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { CountingProxy, inListNumbers } from './helpers/counting-proxy.js';
import { FaultProxy } from './helpers/proxy.js';
import { tempDir } from './helpers/tmp.js';
import { lookupKind, readTruth, rng, treeSchema, treeTables, type Truth } from './helpers/tree.js';

const skip = await mysqlSkipReason();

/** Origin statements heard through `store.on('query')`, with when each ended (performance.now()). */
function originLog(store: { on(event: 'query', listener: (e: QueryEvent) => void): unknown }): { events: QueryEvent[]; ends: number[] } {
  const log = { events: [] as QueryEvent[], ends: [] as number[] };
  store.on('query', (e) => {
    if (e.target !== 'origin') return;
    log.ends.push(performance.now());
    log.events.push(e);
  });
  return log;
}

/** Tracks whether a promise has settled, without changing it. */
function settled<T>(p: Promise<T>): { readonly done: boolean; readonly promise: Promise<T> } {
  const s = { done: false, promise: p };
  p.then(
    () => (s.done = true),
    () => (s.done = true),
  );
  return s;
}

/** The most intervals [start, end] open at one instant. */
function maxOverlap(intervals: readonly (readonly [number, number])[]): number {
  const points: [number, number][] = [];
  for (const [s, e] of intervals) points.push([s, 1], [e, -1]);
  // At equal times, an end comes before a start: a slot handed over is not an overlap.
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of points) {
    open += d;
    peak = Math.max(peak, open);
  }
  return peak;
}

describe('concurrency: one origin statement per lookup across views', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  let n = 0;
  const cacheFile = () => tmp.file(`conc-${++n}.db`);
  /**
   * For the tests that ask again "while in flight": the origin is reached through `gate`, a proxy that holds
   * every statement while stalled, so a load is in flight for sure until the test lets it through
   * (`holding`), however fast the machine. Cache on sqlite3 whatever the driver under test.
   */
  const inFlightCache = () => sqliteCache(cacheFile());
  const gate = new FaultProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
  let gatedUrl = '';
  /**
   * After `gate.stall()` and the first ask, then the asks made while it is in flight: lets everything
   * through, once those asks have had time to join the held load (held, it cannot finish meanwhile, so the
   * wait decides nothing the test asserts).
   */
  async function release(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    await gate.pass();
  }
  // 600 As (ids 1..600), 2,400 Bs, 6,000 Cs, parents drawn at random so some have no children.
  const AS = 600;
  let truth: Truth;
  before(async () => {
    db = await createTestDb(...treeTables(AS, 4, 2.5, 7), 'CREATE TABLE nums (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)');
    truth = await readTruth(db.admin);
    gatedUrl = db.url.replace(`@${MYSQL_HOST}:${MYSQL_PORT}/`, `@127.0.0.1:${await gate.listen()}/`);
  });
  after(async () => {
    await gate.close();
    await db.drop();
    tmp.remove();
  });

  it('the same entity key from two views in the same tick and in a later tick while in flight: one origin SELECT', async () => {
    for (const mode of [Mode.FRESHEN, Mode.PREFER_CACHE]) {
      await using store = await openStore(treeSchema, { origin: mysqlOrigin(gatedUrl), cache: inFlightCache(), mode });
      await store.warmUp();
      const log = originLog(store);
      // All views made before any load starts, so FRESHEN may share every load below.
      await using v1 = store.view();
      await using v2 = store.view();
      await using v3 = store.view();
      const { value, selects } = await countSelects(db, async () => {
        gate.stall();
        const first = settled(v1.A(5));
        const same = v2.A(5);
        await gate.held();
        assert.equal(first.done, false, `${mode}: the load must still be in flight when the third view asks`);
        const later = v3.A(5);
        await release();
        return Promise.all([first.promise, same, later]);
      });
      assert.deepEqual(value.map((a) => a.name), ['a5', 'a5', 'a5']);
      assert.notEqual(value[0], value[1], 'each view has its own object');
      assert.equal(selects, 1, `${mode}: one origin SELECT for three views`);
      assert.equal(store.stats.originQueries, 1);
      assert.deepEqual(log.events.map((e) => e.params), [1]);
    }
  });

  it('the same relation key and the same custom query (tag + params) from several views while in flight: one origin SELECT each', async () => {
    await using store = await openStore(treeSchema, { origin: mysqlOrigin(gatedUrl), cache: inFlightCache(), mode: Mode.FRESHEN });
    await store.warmUp();
    const log = originLog(store);
    const views = Array.from({ length: 4 }, () => store.view());
    try {
      // Each view gets its own A 1 first (one shared SELECT), then all ask A 1's bs.
      const as = await Promise.all(views.map((v) => v.A(1)));
      const rel = await countSelects(db, async () => {
        gate.stall();
        const first = settled(as[0]!.bs);
        const second = as[1]!.bs;
        await gate.held();
        assert.equal(first.done, false, 'the relation load must still be in flight');
        const rest = [as[2]!.bs, as[3]!.bs];
        await release();
        return Promise.all([first.promise, second, ...rest]);
      });
      const want = truth.bsOf.get(1) ?? [];
      assert.ok(want.length > 0);
      for (const bs of rel.value) assert.deepEqual(bs.map((b) => b.id), want);
      assert.equal(rel.selects, 1, 'one origin SELECT for A 1 bs asked by four views');

      const sql = 'SELECT b.* FROM b WHERE b.a_id = ? ORDER BY b.id DESC';
      const q = await countSelects(db, async () => {
        gate.stall();
        const first = settled(views[0]!.query('B', { tag: 'bs-desc', params: [2], sql }));
        const second = views[1]!.query('B', { tag: 'bs-desc', params: [2], sql });
        await gate.held();
        assert.equal(first.done, false, 'the custom query must still be in flight');
        const other = views[2]!.query('B', { tag: 'bs-desc', params: [3], sql });
        const third = views[3]!.query('B', { tag: 'bs-desc', params: [2], sql });
        await release();
        return Promise.all([first.promise, second, third, other]);
      });
      const want2 = [...(truth.bsOf.get(2) ?? [])].reverse();
      for (const rows of q.value.slice(0, 3)) assert.deepEqual(rows.map((b) => b.id), want2);
      assert.deepEqual(q.value[3]!.map((b) => b.id), [...(truth.bsOf.get(3) ?? [])].reverse());
      assert.equal(q.selects, 2, 'params [2] once for three views, params [3] once');
      assert.equal(store.stats.originQueries, 4);
      assert.deepEqual(log.events.map((e) => e.params), [1, 1, 1, 1]);
    } finally {
      for (const v of views) v.close();
    }
  });

  it('keys of a batch already in flight for another view are taken out of the batch, not sent twice', async () => {
    // Through a counting proxy, to read which keys each statement carried off the wire (not the order the
    // statements happened to arrive in: the two loads run concurrently).
    // The gate in front of it holds the first load in flight.
    const proxy = new CountingProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    const port = await proxy.listen();
    const held = new FaultProxy({ host: '127.0.0.1', port });
    const heldPort = await held.listen();
    try {
      const url = db.url.replace(`@${MYSQL_HOST}:${MYSQL_PORT}/`, `@127.0.0.1:${heldPort}/`);
      await using store = await openStore(treeSchema, { origin: mysqlOrigin(url), cache: inFlightCache(), mode: Mode.PREFER_CACHE });
      await store.warmUp();
      await using v1 = store.view();
      await using v2 = store.view();
      const carried = (from: number) =>
        proxy.commands
          .slice(from)
          .filter((c) => c.sql !== undefined && /^SELECT\b/.test(c.sql))
          .map((c) => [lookupKind(c.sql as string), inListNumbers(c.sql as string)] as const)
          .sort((x, y) => String(x).localeCompare(String(y)));
      let mark = proxy.commands.length;
      const { value, selects } = await countSelects(db, async () => {
        held.stall();
        const first = settled(v1.A.many([10, 11, 12]));
        await held.held();
        assert.equal(first.done, false);
        const second = v2.A.many([11, 12, 13, 14, 10]);
        await new Promise((resolve) => setTimeout(resolve, 20));
        await held.pass();
        return Promise.all([first.promise, second]);
      });
      assert.deepEqual(value[0].map((a) => a?.id), [10, 11, 12]);
      assert.deepEqual(value[1].map((a) => a?.id), [11, 12, 13, 14, 10]);
      assert.equal(selects, 2);
      assert.deepEqual(carried(mark), [['A', [10, 11, 12]], ['A', [13, 14]]], 'the second statement carries only A 13 and A 14');

      // The same for a relation level: A 10..12 bs in flight, then A 11..14 bs from the other view.
      mark = proxy.commands.length;
      const rel = await countSelects(db, async () => {
        held.stall();
        const first = settled(Promise.all(value[0].map((a) => a!.bs)));
        await held.held();
        assert.equal(first.done, false);
        const second = Promise.all(value[1].map((a) => a!.bs));
        await new Promise((resolve) => setTimeout(resolve, 20));
        await held.pass();
        return Promise.all([first.promise, second]);
      });
      assert.deepEqual(rel.value[1].map((bs) => bs.map((b) => b.id)), [11, 12, 13, 14, 10].map((k) => truth.bsOf.get(k) ?? []));
      assert.equal(rel.selects, 2);
      assert.deepEqual(carried(mark), [['A.bs', [10, 11, 12]], ['A.bs', [13, 14]]]);
    } finally {
      await held.close();
      await proxy.close();
    }
  });

  it('FRESHEN shares a load only if it began after the view: views made before share it, views made during or after go again', async () => {
    await using store = await openStore(treeSchema, { origin: mysqlOrigin(gatedUrl), cache: inFlightCache(), mode: Mode.FRESHEN });
    await store.warmUp();
    const log = originLog(store);
    await using early = store.view(); // made before the load starts
    await using loader = store.view();
    const { selects: s1, value: a1 } = await countSelects(db, async () => {
      gate.stall();
      const load = settled(loader.A(20));
      await gate.held();
      assert.equal(load.done, false);
      // Made while the load is in flight, after it began: must not take its (possibly older) answer.
      const during = store.view();
      try {
        const asks = [early.A(20), during.A(20)] as const;
        await release();
        const [x, y, z] = await Promise.all([load.promise, ...asks]);
        assert.equal(z.name, 'a20');
        return [x, y];
      } finally {
        during.close();
      }
    });
    assert.deepEqual(a1.map((a) => a.name), ['a20', 'a20']);
    assert.equal(s1, 2, 'one SELECT shared by the loader and the earlier view, one for the view made during the load');

    // Finished well within the in-flight grace period: an earlier view still shares it, a new view does not.
    const again = await countSelects(db, async () => {
      const late = store.view();
      try {
        return await Promise.all([early.A(20), late.A(20)]);
      } finally {
        late.close();
      }
    });
    assert.equal(again.selects, 1, 'the view made after the load finished goes to the origin; the earlier view already holds A 20');
    assert.equal(store.stats.originQueries, 3);
    assert.equal(log.events.length, 3);

    // Relations too: a FRESHEN view made before another view's relation load shares it; one made after does not.
    const before1 = store.view();
    const starter = store.view();
    try {
      const [pa, pb] = await Promise.all([before1.A(21), starter.A(21)]); // one SELECT, shared
      const rel = await countSelects(db, async () => {
        gate.stall();
        const first = settled(pb.bs);
        await gate.held();
        assert.equal(first.done, false);
        const shared = pa.bs;
        await release();
        const r = (await Promise.all([first.promise, shared])).map((bs) => bs.map((b) => b.id));
        const after = store.view();
        try {
          const fresh = await (await after.A(21)).bs;
          return [...r, fresh.map((b) => b.id)];
        } finally {
          after.close();
        }
      });
      for (const ids of rel.value) assert.deepEqual(ids, truth.bsOf.get(21) ?? []);
      assert.equal(rel.selects, 3, 'A 21 bs once for both earlier views; the later view reads A 21 and its bs again');
    } finally {
      before1.close();
      starter.close();
    }
  });

  it('300 views hammering one store with random overlapping trees: right answers, every distinct lookup reaches the origin exactly once', async () => {
    const VIEWS = 300;
    await using store = await openStore(treeSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.PREFER_CACHE });
    const log = originLog(store);
    const cacheStats = { n: 0, ms: 0, writes: 0, writeMs: 0 };
    store.on('query', (e) => {
      if (e.target !== 'cache') return;
      cacheStats.n++;
      cacheStats.ms += e.durationMs;
      if (!e.sql.startsWith('SELECT')) { cacheStats.writes++; cacheStats.writeMs += e.durationMs; }
    });
    const random = rng(42);
    // Roots 1..630: ids past 600 do not exist (absent lookups count too). 1–4 roots a view, delays of 0–3 ticks.
    const plans = Array.from({ length: VIEWS }, () => ({
      roots: Array.from({ length: 1 + Math.floor(random() * 4) }, () => 1 + Math.floor(random() * (AS + 30))),
      delays: Array.from({ length: 6 }, () => Math.floor(random() * 4)),
      byLevel: random() < 0.5,
    }));
    const ticks = async (k: number) => {
      for (let i = 0; i < k; i++) await tick();
    };
    type Tree = { id: number; name: string; bs: { id: number; name: string; a_id: number; cs: [number, string, number][] }[] } | { id: number; missing: true };
    const errors: unknown[] = [];
    const run = async (plan: (typeof plans)[number]): Promise<Tree[]> => {
      await using view = store.view();
      await ticks(plan.delays[0]!);
      const one = async (id: number, d: number): Promise<Tree> => {
        let a;
        try {
          a = await view.A(id);
        } catch (error) {
          if (error instanceof NotFoundError) return { id, missing: true };
          throw error;
        }
        await ticks(d);
        const bs = await a.bs;
        const cs = await Promise.all(bs.map((b) => b.cs));
        return { id, name: a.name, bs: bs.map((b, i) => ({ id: b.id, name: b.name, a_id: b.a_id, cs: cs[i]!.map((c) => [c.id, c.name, c.b_id] as [number, string, number]) })) };
      };
      // Half the views go root by root (batches of mixed sizes), half level by level.
      if (!plan.byLevel) return await Promise.all(plan.roots.map((id, i) => one(id, plan.delays[(i % 5) + 1]!)));
      const as = await view.A.many(plan.roots, { nullForMissing: true });
      await ticks(plan.delays[1]!);
      const bss = await Promise.all(as.map((a) => (a === null ? Promise.resolve([]) : a.bs)));
      await ticks(plan.delays[2]!);
      const css = await Promise.all(bss.map((bs) => Promise.all(bs.map((b) => b.cs))));
      return as.map((a, i) =>
        a === null
          ? { id: plan.roots[i]!, missing: true as const }
          : {
              id: a.id,
              name: a.name,
              bs: bss[i]!.map((b, j) => ({ id: b.id, name: b.name, a_id: b.a_id, cs: css[i]![j]!.map((c) => [c.id, c.name, c.b_id] as [number, string, number]) })),
            },
      );
    };
    const t0 = performance.now();
    const { value: answers, selects } = await countSelects(db, () =>
      Promise.all(plans.map((p) => run(p).catch((error: unknown) => (errors.push(error), [] as Tree[])))),
    );
    const ms = performance.now() - t0;
    assert.deepEqual(errors, [], 'no view failed');

    // Every answer equals the origin, read directly.
    const expected = (id: number): Tree =>
      truth.aName.has(id)
        ? {
            id,
            name: truth.aName.get(id)!,
            bs: (truth.bsOf.get(id) ?? []).map((b) => ({
              id: b, name: truth.bName.get(b)!, a_id: id, cs: (truth.csOf.get(b) ?? []).map((c) => [c, truth.cName.get(c)!, b] as [number, string, number]),
            })),
          }
        : { id, missing: true };
    for (let v = 0; v < VIEWS; v++) assert.deepEqual(answers[v], plans[v]!.roots.map(expected), `view ${v}`);

    // Distinct lookups: every root (A), every existing root (A.bs), every B under those (B.cs).
    const distinctA = new Set(plans.flatMap((p) => p.roots));
    const distinctABs = [...distinctA].filter((id) => truth.aName.has(id));
    const distinctBCs = new Set(distinctABs.flatMap((id) => truth.bsOf.get(id) ?? []));
    const sent = { A: 0, 'A.bs': 0, 'B.cs': 0, other: 0 } as Record<string, number>;
    for (const e of log.events) sent[lookupKind(e.sql)] = (sent[lookupKind(e.sql)] ?? 0) + e.params;
    const distinct = distinctA.size + distinctABs.length + distinctBCs.size;
    const keysSent = log.events.reduce((s, e) => s + e.params, 0);
    console.log(
      `# hammer: ${VIEWS} views, ${distinct} distinct lookups (A ${distinctA.size}, A.bs ${distinctABs.length}, B.cs ${distinctBCs.size}), ` +
        `${keysSent} keys sent in ${log.events.length} origin statements (Com_select ${selects}), ${ms.toFixed(0)} ms; origin ms ${log.events.reduce((s, e) => s + e.durationMs, 0).toFixed(0)}; cache ${JSON.stringify(cacheStats)}`,
    );
    assert.deepEqual(log.events.filter((e) => e.error !== undefined), []);
    assert.deepEqual(sent, { A: distinctA.size, 'A.bs': distinctABs.length, 'B.cs': distinctBCs.size, other: 0 }, 'keys sent per lookup kind = distinct lookups of that kind');
    assert.equal(keysSent, distinct);
    assert.equal(store.stats.originQueries, log.events.length);
    assert.equal(selects, log.events.length, "the server's Com_select delta equals the origin statements heard");
    assert.ok(log.events.length < VIEWS * 3, 'lookups of a view in one tick are batched');

    // A second wave over the same roots is answered from the cache alone.
    const warm = await countSelects(db, () => Promise.all(plans.slice(0, 50).map(run)));
    for (let v = 0; v < 50; v++) assert.deepEqual(warm.value[v], plans[v]!.roots.map(expected));
    assert.equal(warm.selects, 0);
  });

  describe('the origin is bounded: at most originConcurrency statements at once, excess waits in order', () => {
    /** Counts this database's running statements from the server's side, every few ms, until stopped. */
    async function pollProcesslist(dbName: string): Promise<{ stop(): Promise<number[]> }> {
      const conn = await mysql.createConnection({ uri: `mysql://root@${MYSQL_HOST}:${MYSQL_PORT}` });
      const seen: number[] = [];
      let running = true;
      const loop = (async () => {
        while (running) {
          const [rows] = await conn.query(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Query' AND ID <> CONNECTION_ID()",
            [dbName],
          );
          seen.push(Number((rows as { n: number }[])[0]?.n));
          await new Promise((r) => setTimeout(r, 3));
        }
      })();
      return {
        async stop() {
          running = false;
          await loop;
          await conn.end();
          return seen;
        },
      };
    }

    it('24 slow custom queries from 24 views with originConcurrency 2: never more than 2 on the server, 2 reached, started in order', async () => {
      await using store = await openStore(treeSchema, { origin: mysqlOrigin(db.url), mode: Mode.FRESHEN, originConcurrency: 2 });
      const log = originLog(store);
      const views = Array.from({ length: 24 }, () => store.view());
      const poll = await pollProcesslist(db.name);
      let samples: number[];
      try {
        const answers = await Promise.all(
          views.map((v, i) =>
            v.query('A', { tag: 'slow', params: [i + 1], sql: `SELECT /* q${i} */ a.* FROM a WHERE a.id = ? AND SLEEP(0.05) = 0` }),
          ),
        );
        assert.deepEqual(answers.map((rows) => rows.map((a) => a.id)), views.map((_, i) => [i + 1]));
      } finally {
        samples = await poll.stop();
        for (const v of views) v.close();
      }
      const serverPeak = Math.max(...samples);
      const intervals = log.events.map((e, i) => [log.ends[i]! - e.durationMs, log.ends[i]!] as const);
      const eventPeak = maxOverlap(intervals);
      console.log(`# bound 2: peak on the server ${serverPeak} (${samples.length} samples), peak from query events ${eventPeak}`);
      assert.equal(log.events.length, 24);
      assert.ok(log.events.every((e) => e.durationMs >= 45), 'each statement really was slow');
      assert.ok(serverPeak <= 2, `the server saw ${serverPeak} statements of this database at once`);
      assert.equal(serverPeak, 2, 'the bound is reached');
      assert.equal(eventPeak, 2);
      // Waiting in order: statements start in the order they were asked.
      const started = log.events.map((e, i) => ({ q: Number(/q(\d+)/.exec(e.sql)![1]), start: intervals[i]![0] })).sort((x, y) => x.start - y.start);
      assert.deepEqual(started.map((s) => s.q), views.map((_, i) => i));
    });

    it('many views with batchSize 1 on a slow table, default originConcurrency (4): never more than 4 at once, 4 reached', async () => {
      const slowSchema = defineSchema({
        N: entity({ table: 'slow_nums', key: 'id', columns: { id: 'integer', name: 'text' }, relations: {} }),
      });
      await db.exec(
        `INSERT INTO nums VALUES ${Array.from({ length: 40 }, (_, i) => `(${i + 1}, 'n${i + 1}')`).join(', ')}`,
        'CREATE VIEW slow_nums AS SELECT id, name FROM nums WHERE SLEEP(0.03) = 0',
      );
      await using store = await openStore(slowSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.PREFER_CACHE, batchSize: 1 });
      const log = originLog(store);
      const poll = await pollProcesslist(db.name);
      let samples: number[];
      try {
        // 10 views, each asking 4 distinct keys in one tick: one batch of 4, split into 4 statements by batchSize 1.
        const answers = await Promise.all(
          Array.from({ length: 10 }, async (_, v) => {
            await using view = store.view();
            return (await view.N.many([1, 2, 3, 4].map((k) => v * 4 + k))).map((x) => x?.name);
          }),
        );
        assert.deepEqual(answers.flat(), Array.from({ length: 40 }, (_, i) => `n${i + 1}`));
      } finally {
        samples = await poll.stop();
      }
      const serverPeak = Math.max(...samples);
      const eventPeak = maxOverlap(log.events.map((e, i) => [log.ends[i]! - e.durationMs, log.ends[i]!] as const));
      console.log(`# bound 4: peak on the server ${serverPeak} (${samples.length} samples), peak from query events ${eventPeak}`);
      assert.equal(log.events.length, 40);
      assert.ok(log.events.every((e) => e.params === 1 && e.durationMs >= 25));
      assert.ok(serverPeak <= 4, `the server saw ${serverPeak} statements of this database at once`);
      assert.equal(serverPeak, 4, 'the bound is reached');
      assert.equal(eventPeak, 4);
    });
  });
});
