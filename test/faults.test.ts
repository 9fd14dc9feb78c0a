import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  belongsTo, defineSchema, entity, hasMany, IsOfflineError, Mode, mysqlOrigin, NotFoundError, openStore, OriginError, type Store,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { everLoadedKeys, queryCacheFile } from './helpers/cache-file.js';
import { measure } from './helpers/measure.js';
import { createTestDb, MYSQL_HOST, MYSQL_PASSWORD, MYSQL_PORT, MYSQL_USER, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { FaultProxy } from './helpers/proxy.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** Bs of A 10: a result of about a megabyte, so a cut lands in the middle of it. */
const BIG = 20_000;
const BIG_TABLES = [
  ...AB_TABLES,
  "INSERT INTO a VALUES (10, 'a10'), (11, 'a11'), (12, 'a12')",
  `INSERT INTO b SELECT 100 + seq, CONCAT('big-', seq, '-', REPEAT('x', 30)), 10 FROM seq_1_to_${BIG}`,
  "INSERT INTO b VALUES (50, 'b50', 11), (51, 'b51', 12)",
];

/** Driver error codes for a connection lost in the middle of a result (orderly close or reset). */
const LOST = ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE'];
/** ... for a connection refused (listener closed), reset at once, or not answered in time. */
const REFUSED = ['ECONNREFUSED', ...LOST]; // a pooled connection dropped by the fault is lost rather than refused
const RESET = ['ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'EPIPE'];
const TIMED_OUT = ['ADBV_ORIGIN_TIMEOUT', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ETIMEDOUT'];

type Fault = 'refuse' | 'reset' | 'stall';
const FAULT_CODES: Record<Fault, string[]> = { refuse: REFUSED, reset: RESET, stall: TIMED_OUT };

/**
 * Runs `fn` again (up to 10 times, 100 ms apart) while it fails only because the origin was slow to answer: a
 * store with a 300 ms origin timeout on a busy machine may time out again right after a stall ends, while the
 * statements held during the stall drain.
 */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      // OFFLINE_FALLBACK turns a timed-out statement into IsOfflineError (cause: the OriginError).
      const origin = error instanceof IsOfflineError ? error.cause : error;
      const code = ((origin as { cause?: { code?: unknown } }).cause ?? {}).code;
      if (attempt >= 9 || !(origin instanceof OriginError) || code !== 'ADBV_ORIGIN_TIMEOUT') throw error;
      await delay(100);
    }
  }
}

/** Tallies for the final report: faults injected, and lookups that failed cleanly and then worked again. */
const tally = { injected: 0, rejectedCleanly: 0, recovered: 0 };

/** Asserts `promise` rejects with an OriginError for an unreachable origin whose cause has one of `codes`. */
async function assertUnreachable(promise: Promise<unknown>, codes: readonly string[], what: string): Promise<OriginError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  }, `${what} should reject`);
  assert.ok(caught instanceof OriginError, `${what}: expected an OriginError, got ${String(caught)}`);
  const cause = caught.cause as { code?: unknown } | undefined;
  assert.ok(cause !== undefined && cause !== null, `${what}: the OriginError carries the driver's error as cause`);
  assert.ok(codes.includes(String(cause.code)), `${what}: cause code ${String(cause.code)} is one of ${codes.join(', ')} (${caught.message})`);
  assert.equal(caught.unreachable, true, `${what}: unreachable`);
  tally.rejectedCleanly++;
  return caught;
}

describe('origin faults through a TCP proxy', { skip }, () => {
  let db: TestDb;
  let proxy: FaultProxy;
  let n = 0;
  const tmp = tempDir();
  const cacheFile = () => tmp.file(`faults-${++n}.db`);
  let checksum: string;

  /** The origin's tables, summed up: they must never change whatever the faults. */
  async function originChecksum(): Promise<string> {
    const [rows] = await db.admin.query('CHECKSUM TABLE a, b');
    return JSON.stringify(rows);
  }

  before(async () => {
    db = await createTestDb(...BIG_TABLES);
    proxy = new FaultProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    await proxy.listen();
    checksum = await originChecksum();
  });
  beforeEach(() => proxy.pass());
  afterEach(async () => {
    await proxy.pass();
    assert.equal(await originChecksum(), checksum, 'the origin tables are unchanged');
  });
  after(async () => {
    await proxy.close();
    await db.drop();
    tmp.remove();
    console.log(
      `# faults: ${tally.injected} injected; ${tally.rejectedCleanly} lookups rejected with OriginError (cause kept); ` +
        `${tally.recovered} recoveries without reopening; proxy ${JSON.stringify(proxy.counters)}`,
    );
  });

  const origin = () =>
    mysqlOrigin({ host: '127.0.0.1', port: proxy.port, user: MYSQL_USER, password: MYSQL_PASSWORD || undefined, database: db.name });
  const open = (file: string, mode: Mode, originTimeoutMs?: number) =>
    openStore(abSchema, { origin: origin(), cache: testCache(file), mode, ...(originTimeoutMs === undefined ? {} : { originTimeoutMs }) });

  /** An OFFLINE store on the same file: what the cache holds complete, and nothing else. */
  async function offlineAnswers(file: string, fn: (view: ReturnType<Store<typeof abSchema.entities>['view']>) => Promise<void>): Promise<void> {
    await using offline = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    await fn(view);
    const report = await offline.verify();
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
  }

  /** Bs of `aId` held in the cache file. */
  async function cachedBs(file: string, aId: number): Promise<number> {
    const [row] = await queryCacheFile<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM b WHERE a_id = ?', [aId]);
    return Number(row?.n);
  }

  for (const reset of [false, true]) {
    it(`a connection ${reset ? 'reset' : 'closed'} in the middle of a ${BIG}-row result: that lookup rejects, nothing is marked, cached lookups answer, the same view works once healthy`, async () => {
      const file = cacheFile();
      await using store = await open(file, Mode.PREFER_CACHE);
      {
        await using warm = store.view({ mode: Mode.FRESHEN });
        const [a1] = await Promise.all([warm.A(1), warm.A(10)]);
        assert.equal((await a1.bs).length, 3);
      }
      assert.deepEqual(await everLoadedKeys(file, 'A.bs'), [1]);

      proxy.cutAfter(64 * 1024, { reset });
      tally.injected++;
      await using view = store.view();
      const [a1, a10] = await Promise.all([view.A(1), view.A(10)]);
      const before = store.stats.originQueries;
      const [big, small] = await Promise.allSettled([a10.bs, a1.bs]);
      assert.equal(big.status, 'rejected');
      await assertUnreachable(Promise.reject((big as PromiseRejectedResult).reason), LOST, 'A 10 .bs cut mid-result');
      assert.ok(proxy.counters.cut >= 1, 'the proxy did cut a connection');
      assert.equal(small.status, 'fulfilled', 'A 1 .bs is complete in the cache: answered in the same view');
      assert.deepEqual((small as PromiseFulfilledResult<readonly { id: number }[]>).value.map((b) => b.id), [1, 2, 3]);
      assert.equal(store.stats.originQueries - before, 1, 'one origin statement was tried, for A 10 .bs only');

      // Nothing of the cut answer reached the cache: no mark, no partial rows.
      assert.deepEqual(await everLoadedKeys(file, 'A.bs'), [1]);
      assert.equal(await cachedBs(file, 10), 0, 'no partial rows of the cut result');
      await offlineAnswers(file, async (off) => {
        const a10off = await off.A(10);
        await assert.rejects(a10off.bs, IsOfflineError);
        assert.equal((await (await off.A(1)).bs).length, 3);
      });

      // Healthy again: the same view, same object, succeeds; no reopening.
      await proxy.pass();
      const bs = await a10.bs;
      assert.equal(bs.length, BIG);
      assert.equal(bs[0]?.id, 101);
      assert.equal(bs[BIG - 1]?.id, 100 + BIG);
      assert.deepEqual(await everLoadedKeys(file, 'A.bs'), [1, 10]);
      assert.equal(await cachedBs(file, 10), BIG);
      tally.recovered++;
      assert.equal((await store.verify()).ok, true);
    });
  }

  it('a cut in one chunk of a batch split at batchSize: the cut key is not marked, and no key is marked without its rows', async () => {
    const file = cacheFile();
    await using store = await openStore(abSchema, { origin: origin(), cache: testCache(file), mode: Mode.FRESHEN, batchSize: 1 });
    await using view = store.view();
    const [a1, a10, a11] = await Promise.all([view.A(1), view.A(10), view.A(11)]);
    proxy.cutAfter(64 * 1024);
    tally.injected++;
    const results = await Promise.allSettled([a1.bs, a10.bs, a11.bs]);
    assert.equal(results[1]?.status, 'rejected');
    await assertUnreachable(Promise.reject((results[1] as PromiseRejectedResult).reason), LOST, 'A 10 .bs');
    const marked = (await everLoadedKeys(file, 'A.bs')) as number[];
    assert.ok(!marked.includes(10), 'A 10 .bs is not marked complete');
    // The chunks that did arrive may or may not be kept, but a mark always comes with exactly its rows.
    const expected: Record<number, number> = { 1: 3, 11: 1 };
    for (const k of marked) assert.equal(await cachedBs(file, k), expected[k], `A ${k} .bs marked with its rows`);
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected') assert.ok(r.reason instanceof OriginError, `lookup ${i}: ${String(r.reason)}`);
    }
    await proxy.pass();
    const again = await Promise.all([a1.bs, a10.bs, a11.bs]);
    assert.deepEqual(again.map((g) => g.length), [3, BIG, 1]);
    tally.recovered++;
    assert.deepEqual(await everLoadedKeys(file, 'A.bs'), [1, 10, 11]);
    assert.equal((await store.verify()).ok, true);
  });

  for (const fault of ['refuse', 'reset', 'stall'] as const) {
    it(`${fault === 'refuse' ? 'refused connections' : fault === 'reset' ? 'connections reset at once' : 'a stalled origin (beyond originTimeoutMs: 300)'}: every lookup needing the origin rejects with OriginError; the store works again without reopening`, async () => {
      const file = cacheFile();
      {
        // Warmed through a store without the short timeout: a cold connection on a busy machine may take longer.
        await using store = await open(file, Mode.FRESHEN);
        await using warm = store.view();
        await (await warm.A(1)).bs;
        await assert.rejects(warm.B(99), NotFoundError);
      }
      await using store = await open(file, Mode.PREFER_CACHE, fault === 'stall' ? 300 : undefined);
      const spec = { tag: 'bs-of', sql: 'SELECT * FROM b WHERE a_id = ? ORDER BY id', params: [2] };
      await using view = store.view();
      if (fault === 'refuse') await proxy.refuse();
      else if (fault === 'reset') await proxy.reset();
      else proxy.stall();
      tally.injected++;

      const t0 = performance.now();
      const [a1, a2, b99, a3, q, raw] = await Promise.allSettled([
        view.A(1), view.A(2), view.B(99), view.A(3), view.query('B', spec), view.raw('SELECT COUNT(*) AS n FROM b'),
      ]);
      const elapsed = performance.now() - t0;
      // From the cache, in the same view:
      assert.equal(a1.status, 'fulfilled');
      assert.equal((a1 as PromiseFulfilledResult<{ name: string }>).value.name, 'a1');
      assert.equal(b99.status, 'rejected');
      assert.ok((b99 as PromiseRejectedResult).reason instanceof NotFoundError, 'recorded absence is still an answer');
      assert.deepEqual((await (a1 as PromiseFulfilledResult<{ bs: Promise<readonly { id: number }[]> }>).value.bs).map((b) => b.id), [1, 2, 3]);
      // Needing the origin: OriginError with the driver's error.
      const codes = FAULT_CODES[fault];
      for (const [what, r] of [['A 2', a2], ['A 3', a3], ['query bs-of', q], ['raw', raw]] as const) {
        assert.equal(r.status, 'rejected', `${what} rejects`);
        await assertUnreachable(Promise.reject((r as PromiseRejectedResult).reason), codes, what);
      }
      if (fault === 'stall') {
        assert.ok(elapsed >= 250, `gave up after the timeout, not before (${elapsed.toFixed(0)} ms)`);
        assert.ok(elapsed < 3000, `gave up soon after 300 ms (${elapsed.toFixed(0)} ms)`);
      }

      // Nothing marked for what failed.
      assert.deepEqual(await everLoadedKeys(file, 'A'), [1]);
      assert.deepEqual(await everLoadedKeys(file, 'q:bs-of'), []);
      await offlineAnswers(file, async (off) => {
        await assert.rejects(off.A(2), IsOfflineError);
        await assert.rejects(off.query('B', spec), IsOfflineError);
        assert.equal((await off.A(1)).name, 'a1');
      });

      // The origin answers again: the same view, then a new one, without reopening the store.
      await proxy.pass();
      const a2again = await eventually(() => view.A(2));
      assert.equal(a2again.name, 'a2');
      assert.deepEqual((await eventually(() => view.query('B', spec))).map((b) => b.id), [4]);
      assert.equal(Number((await eventually(() => view.raw('SELECT COUNT(*) AS n FROM b')))[0]?.n), BIG + 6);
      await using fresh = store.view({ mode: Mode.FRESHEN });
      assert.equal((await eventually(() => fresh.A(3))).name, 'a3');
      assert.deepEqual(await everLoadedKeys(file, 'A'), [1, 2, 3]);
      tally.recovered++;
      assert.equal((await store.verify()).ok, true);
    });
  }

  it('the same fault again and again: each time the lookup rejects cleanly and the next healthy one succeeds', async () => {
    const file = cacheFile();
    await using store = await open(file, Mode.FRESHEN, 1000);
    const cycle = ['refuse', 'reset', 'stall', 'cut'] as const;
    for (let round = 0; round < 8; round++) {
      const fault = cycle[round % cycle.length] as (typeof cycle)[number];
      await using view = store.view();
      if (fault === 'refuse') await proxy.refuse();
      else if (fault === 'reset') await proxy.reset();
      else if (fault === 'stall') proxy.stall();
      else proxy.cutAfter(64 * 1024);
      tally.injected++;
      const codes = fault === 'cut' ? LOST : FAULT_CODES[fault];
      if (fault === 'cut') {
        const a10 = await view.A(10); // small: passes under the cut
        await assertUnreachable(a10.bs, codes, `round ${round} (${fault})`);
      } else {
        await assertUnreachable(view.A(11), codes, `round ${round} (${fault})`);
      }
      await proxy.pass();
      const a11 = await eventually(() => view.A(11));
      assert.deepEqual((await eventually(async () => a11.bs)).map((b) => b.id), [50]);
      tally.recovered++;
    }
    assert.equal((await store.verify()).ok, true);
  });
});

/** The quick-start tables with maxAge on A and A.bs, so complete lookups go stale and ask the origin. */
const STALE_MS = 150;
const NO_BS: readonly never[] = Object.freeze([]);
const staleSchema = defineSchema({
  A: entity({
    table: 'a', key: 'id', maxAge: STALE_MS,
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id', { maxAge: STALE_MS }), bsOr: hasMany('B', 'a_id', { offlineFallback: NO_BS }) },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer' },
    relations: { a: belongsTo('A', 'a_id') },
  }),
});

describe('OFFLINE_FALLBACK', { skip }, () => {
  let db: TestDb;
  let proxy: FaultProxy;
  let n = 0;
  const tmp = tempDir();
  const cacheFile = () => tmp.file(`fallback-${++n}.db`);
  before(async () => {
    db = await createTestDb(...AB_TABLES);
    proxy = new FaultProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    await proxy.listen();
  });
  beforeEach(() => proxy.pass());
  after(async () => {
    await proxy.close();
    await db.drop();
    tmp.remove();
  });
  const origin = () =>
    mysqlOrigin({ host: '127.0.0.1', port: proxy.port, user: MYSQL_USER, password: MYSQL_PASSWORD || undefined, database: db.name });
  const spec = (a: number) => ({ tag: 'bs-of', sql: 'SELECT * FROM b WHERE a_id = ? ORDER BY id', params: [a] });

  /**
   * Warms `file`: A 1 and 3 with bs, A 2 alone (not its bs), B 99 absent, query bs-of(1). Through a store of
   * its own, so the store under test has no load of its own to share (finished loads are shared for a while).
   */
  async function warm(file: string): Promise<void> {
    await using store = await openStore(staleSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
    await using view = store.view();
    const [a1, a2, a3] = await Promise.all([view.A(1), view.A(2), view.A(3)]);
    await Promise.all([a1.bs, a3.bs, a1.bsOr]);
    void a2;
    await assert.rejects(view.B(99), NotFoundError);
    await view.query('B', spec(1));
  }

  it('origin reachable: behaves as PREFER_CACHE (complete lookups from the cache, no statement; the rest from the origin; no fallback)', async () => {
    await using store = await openStore(abSchema, { origin: origin(), cache: testCache(cacheFile()), mode: Mode.OFFLINE_FALLBACK });
    {
      await using w = store.view({ mode: Mode.FRESHEN });
      const [a1, a3] = await Promise.all([w.A(1), w.A(3)]);
      await Promise.all([a1.bs, a3.bs]);
      await assert.rejects(w.B(99), NotFoundError);
    }
    const events: unknown[] = [];
    store.on('fallback', (e) => events.push(e));
    await using view = store.view();
    assert.equal(view.mode, Mode.OFFLINE_FALLBACK);
    const hits = await measure(db, store, async () => {
      const [a1, a3] = await Promise.all([view.A(1), view.A(3)]);
      const [bs1, bs3] = await Promise.all([a1.bs, a3.bs]);
      assert.deepEqual(bs1.map((b) => b.id), [1, 2, 3]);
      assert.deepEqual(bs3, []);
      await assert.rejects(view.B(99), NotFoundError);
    });
    assert.equal(hits.originQueries, 0);
    assert.equal(hits.selects, 0, 'complete lookups: no SELECT on the server');
    const miss = await measure(db, store, async () => (await (await view.A(2)).bs).map((b) => b.id));
    assert.deepEqual(miss.value, [4]);
    assert.equal(miss.originQueries, 2);
    assert.equal(miss.selects, 2, 'A 2 and A 2 .bs from the origin');
    assert.equal(store.stats.fallbacks, 0);
    assert.deepEqual(events, []);
  });

  for (const fault of ['refuse', 'reset', 'stall'] as const) {
    it(`origin unreachable (${fault}): lookup by lookup, what the cache holds is answered and counted as a fallback, the rest IsOfflineError or the relation's offlineFallback`, async () => {
      const file = cacheFile();
      const timeout = fault === 'stall' ? { originTimeoutMs: 300 } : {};
      await using store = await openStore(staleSchema, { origin: origin(), cache: testCache(file), mode: Mode.OFFLINE_FALLBACK, ...timeout });
      await warm(file);
      await delay(STALE_MS + 50); // A and A.bs marks are now older than maxAge: they ask the origin first
      const events: { kind: string; lookups: number; cause: unknown }[] = [];
      store.on('fallback', (e) => events.push(e));
      if (fault === 'refuse') await proxy.refuse();
      else if (fault === 'reset') await proxy.reset();
      else proxy.stall();

      await using view = store.view();
      const before = store.stats.fallbacks;
      // One tick, one batch: A 1, 2, 3 in the cache but stale (older than maxAge), A 4 never loaded; B 99 recorded absent.
      const [a1, a2, a3, a4, b99] = await Promise.allSettled([view.A(1), view.A(2), view.A(3), view.A(4), view.B(99)]);
      assert.equal(a1.status, 'fulfilled');
      assert.equal(a2.status, 'fulfilled');
      assert.equal(a3.status, 'fulfilled');
      assert.equal((a1 as PromiseFulfilledResult<{ name: string }>).value.name, 'a1');
      assert.equal(a4.status, 'rejected');
      const offline = (a4 as PromiseRejectedResult).reason;
      assert.ok(offline instanceof IsOfflineError, `A 4: IsOfflineError, got ${String(offline)}`);
      assert.ok(offline.cause instanceof OriginError && offline.cause.unreachable, 'IsOfflineError carries the OriginError as cause');
      assert.ok(FAULT_CODES[fault].includes(String((offline.cause.cause as { code?: unknown }).code)), `cause code ${String((offline.cause.cause as { code?: unknown }).code)}`);
      assert.equal(b99.status, 'rejected');
      assert.ok((b99 as PromiseRejectedResult).reason instanceof NotFoundError);

      // Complete and fresh in the cache (B has no maxAge): answered as PREFER_CACHE would, without trying the origin.
      const sent = store.stats.originQueries;
      assert.equal((await view.B(2)).name, 'b2');
      assert.equal(store.stats.originQueries, sent, 'B 2: no origin statement tried');

      const afterEntities = store.stats.fallbacks - before;
      assert.ok(afterEntities >= 3, `A 1, 2, 3 fell back to the cache (counted ${afterEntities})`);
      const entityEvents = events.filter((e) => e.kind === 'A');
      assert.ok(entityEvents.length >= 1, 'a fallback event for A');
      for (const e of events) assert.ok(e.cause instanceof OriginError && e.cause.unreachable, 'the event carries the cause');

      // Relations: a stale complete one is answered; one never loaded rejects, or gives its offlineFallback.
      const a1o = (a1 as PromiseFulfilledResult<{ bs: Promise<readonly { id: number }[]> }>).value;
      const a2o = (a2 as PromiseFulfilledResult<{ bs: Promise<readonly { id: number }[]>; bsOr: Promise<readonly { id: number }[]> }>).value;
      assert.deepEqual((await a1o.bs).map((b) => b.id), [1, 2, 3]);
      await assert.rejects(a2o.bs, IsOfflineError);
      assert.equal(await a2o.bsOr, NO_BS, 'A 2 .bsOr was never loaded: its offlineFallback');
      // Queries: a recorded one (not stale: no maxAge) from the cache; another rejects.
      assert.deepEqual((await view.query('B', spec(1))).map((b) => b.id), [1, 2, 3]);
      await assert.rejects(view.query('B', spec(2)), IsOfflineError);
      assert.deepEqual(await view.query('B', { ...spec(2), offlineFallback: NO_BS }), NO_BS);
      assert.ok(store.stats.fallbacks > afterEntities + before, 'A 1 .bs counted too');

      // Nothing new is marked complete; the cache is whole.
      assert.deepEqual(await everLoadedKeys(file, 'A'), [1, 2, 3]);
      assert.deepEqual(await everLoadedKeys(file, 'A.bs'), [1, 3]);
      assert.deepEqual((await store.verify()).problems, []);

      // Back online: the same view reaches the origin again, no fallback.
      await proxy.pass();
      const count = store.stats.fallbacks;
      await assert.rejects(eventually(() => view.A(4)), NotFoundError, 'now the origin answers: A 4 does not exist');
      assert.deepEqual((await eventually(async () => a2o.bs)).map((b) => b.id), [4]);
      assert.equal(store.stats.fallbacks, count);
    });
  }

  it('fallbacks count the lookups answered from the cache, not those that then fail IsOfflineError', async () => {
    const file = cacheFile();
    await using store = await openStore(staleSchema, { origin: origin(), cache: testCache(file), mode: Mode.OFFLINE_FALLBACK });
    await warm(file);
    await delay(STALE_MS + 50);
    const events: { kind: string; lookups: number }[] = [];
    store.on('fallback', (e) => events.push(e));
    await proxy.refuse();
    await using view = store.view();
    const results = await Promise.allSettled([view.A(1), view.A(3), view.A(4), view.A(5)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    // StoreStats.fallbacks: "Lookups answered from the cache because the origin could not be reached".
    assert.equal(store.stats.fallbacks, 2, 'A 1 and A 3 were answered from the cache; A 4 and A 5 were not answered at all');
    assert.equal(events.reduce((s, e) => s + e.lookups, 0), 2, 'fallback events: "lookups of kind answered from the cache"');
  });

  it('an origin that answers with an error is not unreachable: no fallback, the OriginError is raised', async () => {
    await using store = await openStore(staleSchema, { origin: origin(), cache: testCache(cacheFile()), mode: Mode.OFFLINE_FALLBACK });
    await using view = store.view();
    const error = await view.query('B', { tag: 'bad', sql: 'SELECT * FROM no_such_table WHERE id = ?', params: [1] }).then(
      () => assert.fail('a query on a missing table cannot succeed'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof OriginError, String(error));
    assert.equal(error.unreachable, false);
    assert.equal((error.cause as { code?: string }).code, 'ER_NO_SUCH_TABLE');
    assert.equal(store.stats.fallbacks, 0);
  });
});
