import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { measure } from './helpers/measure.js';
import { countSelects, createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
/**
 * The statement patterns below are compared write for write: each answer's cache write commits on its own
 * (a write waiting for company would share a commit with the next level's, or not, by the clock).
 */
const EACH_WRITE_ALONE = { commitDelayMs: 0 };

describe('batching', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('lookups of one kind in one tick become one origin statement, then one per level', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file('batch.db')), mode: Mode.FRESHEN });
    await using view = store.view();
    const { value: as, selects } = await countSelects(db, () => Promise.all([view.A(1), view.A(2), view.A(3)]));
    assert.equal(selects, 1);
    assert.deepEqual(as.map((a) => a.name), ['a1', 'a2', 'a3']);
    const level2 = await countSelects(db, () => Promise.all(as.map((a) => a.bs)));
    assert.equal(level2.selects, 1);
    assert.deepEqual(level2.value.map((bs) => bs.map((b) => b.id)), [[1, 2, 3], [4], []]);
    assert.equal(store.stats.originQueries, 2);
  });

  it('splits an origin batch only past batchSize', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), batchSize: 2 });
    await using view = store.view();
    const { selects } = await countSelects(db, () => Promise.all([1, 2, 3].map((k) => view.A(k))));
    assert.equal(selects, 2);
    assert.equal(store.stats.originQueries, 2);
  });

  /**
   * What one level costs on a store whose cache is empty: one lookup of one key, then its relation.
   * A batch of any number of keys should cost the same pattern of statements.
   */
  async function singleKeyPattern(): Promise<{ entity: number; relation: number }> {
    // A file cache like the tests below: its origin batches also claim and release the fetch (other processes may share it).
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file(`pattern-${Math.random()}.db`), EACH_WRITE_ALONE), mode: Mode.PREFER_CACHE });
    await using view = store.view();
    const a = await measure(db, store, () => view.A(2));
    const bs = await measure(db, store, () => a.value.bs);
    assert.equal(a.selects, 1);
    assert.equal(bs.selects, 1);
    assert.deepEqual(bs.value.map((b) => b.id), [4]);
    return { entity: a.cacheQueries, relation: bs.cacheQueries };
  }

  it('a batch mixing cache hits and misses resolves together: the next level is still one statement', async () => {
    const pattern = await singleKeyPattern();
    const file = tmp.file('mixed.db');
    {
      // Warm the cache with A 1 only (not its relation).
      await using warm = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = warm.view();
      assert.equal((await view.A(1)).name, 'a1');
    }
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file, EACH_WRITE_ALONE), mode: Mode.PREFER_CACHE });
    await using view = store.view();
    // Each chain asks for its relation as soon as its own A resolves: if the cached A 1 resolved before
    // A 2 and A 3 (which need the origin), A 1's relation would go out in a batch of its own.
    const order: number[] = [];
    const { value, selects, originQueries, cacheQueries } = await measure(db, store, () =>
      Promise.all(
        [1, 2, 3].map((k) =>
          view.A(k).then((a) => {
            order.push(a.id);
            return a.bs;
          }),
        ),
      ),
    );
    assert.deepEqual(value.map((bs) => bs.map((b) => b.id)), [[1, 2, 3], [4], []]);
    assert.equal(order.length, 3);
    assert.equal(selects, 2, 'one origin SELECT for the A level (A 2, A 3) and one for the relation level');
    assert.equal(originQueries, 2);
    assert.equal(cacheQueries, pattern.entity + pattern.relation, 'one cache read (+ one merge) per level, as for a single key');
  });

  it('a relation level with some groups complete in the cache and some not is one cache read and one origin SELECT', async () => {
    const pattern = await singleKeyPattern();
    const file = tmp.file('mixed-rel.db');
    {
      await using warm = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = warm.view();
      const a1 = await view.A(1);
      assert.equal((await a1.bs).length, 3);
    }
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file, EACH_WRITE_ALONE), mode: Mode.PREFER_CACHE });
    await using view = store.view();
    const as = await measure(db, store, () => Promise.all([view.A(1), view.A(2), view.A(3)]));
    assert.equal(as.selects, 1, 'A 2 and A 3 in one origin SELECT; A 1 from the cache');
    assert.equal(as.cacheQueries, pattern.entity);
    const level = await measure(db, store, () => Promise.all(as.value.map((a) => a.bs)));
    assert.deepEqual(level.value.map((bs) => bs.map((b) => b.id)), [[1, 2, 3], [4], []]);
    assert.equal(level.selects, 1, 'A 2 and A 3 relations in one origin SELECT; A 1 from the cache');
    assert.equal(level.originQueries, 1);
    assert.equal(level.cacheQueries, pattern.relation);
    // Everything is now complete in the cache: the same level in a new view costs no origin statement.
    await using again = store.view();
    const warmLevel = await measure(db, store, () => Promise.all([1, 2, 3].map((k) => again.A(k).then((a) => a.bs))));
    assert.deepEqual(warmLevel.value.map((bs) => bs.length), [3, 1, 0]);
    assert.equal(warmLevel.selects, 0);
    assert.equal(warmLevel.originQueries, 0);
    assert.equal(warmLevel.cacheQueries, 2, 'one cache read per level');
  });

  it('a relation level of many parents is one origin SELECT, and so is the level after it', async () => {
    const PARENTS = 250;
    const aValues = Array.from({ length: PARENTS }, (_, i) => `(${i + 1}, 'a${i + 1}')`).join(', ');
    const bValues = Array.from({ length: PARENTS * 3 }, (_, i) => `(${i + 1}, 'b${i + 1}', ${(i % PARENTS) + 1})`).join(', ');
    const big = await createTestDb(AB_TABLES[0] as string, AB_TABLES[1] as string, `INSERT INTO a VALUES ${aValues}`, `INSERT INTO b VALUES ${bValues}`);
    try {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(big.url), cache: testCache(), mode: Mode.FRESHEN });
      await using view = store.view();
      const keys = Array.from({ length: PARENTS }, (_, i) => i + 1);
      const as = await measure(big, store, () => Promise.all(keys.map((k) => view.A(k))));
      assert.equal(as.selects, 1);
      const level = await measure(big, store, () => Promise.all(as.value.map((a) => a.bs)));
      assert.equal(level.selects, 1, `${PARENTS} parents' hasMany in one SELECT`);
      assert.equal(level.originQueries, 1);
      assert.equal(level.value.length, PARENTS);
      for (let i = 0; i < PARENTS; i++) {
        assert.deepEqual(
          (level.value[i] ?? []).map((b) => b.id),
          [i + 1, i + 1 + PARENTS, i + 1 + 2 * PARENTS],
        );
      }
      // The hasOne of every parent: one more SELECT for the whole level.
      const ones = await measure(big, store, () => Promise.all(as.value.map((a) => a.b)));
      assert.equal(ones.selects, 1);
      assert.deepEqual(ones.value.slice(0, 3).map((b) => b?.id), [1, 2, 3]);
      // belongsTo back to the parents: all known in the view already, so nothing is sent at all.
      const back = await measure(big, store, () => Promise.all(level.value.flat().map((b) => b.a)));
      assert.equal(back.selects, 0);
      assert.equal(back.originQueries, 0);
      assert.equal(back.cacheQueries, 0);
      assert.equal(back.value[0], as.value[0]);
    } finally {
      await big.drop();
    }
  });

  it('chained lookups over many parents: one statement per level, however the chains interleave', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(), mode: Mode.FRESHEN });
    await using view = store.view();
    const { value, selects } = await countSelects(db, () =>
      Promise.all([3, 1, 2, 1].map((k) => view.A(k).then((a) => a.bs).then((bs) => Promise.all(bs.map((b) => view.B(b.id)))))),
    );
    assert.deepEqual(value.map((bs) => bs.map((b) => b.id)), [[], [1, 2, 3], [4], [1, 2, 3]]);
    assert.equal(selects, 2, 'A level and relation level; the B lookups are answered from the view');
    assert.equal(store.stats.originQueries, 2);
  });
});
