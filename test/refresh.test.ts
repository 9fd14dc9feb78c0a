import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { IsOfflineError, Mode, NotFoundError } from 'asyncdbview';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { fileStores } from './helpers/file-stores.js';

const skip = await mysqlSkipReason();

const BS_DESC = { tag: 'bs-desc', params: [1], sql: 'SELECT * FROM b WHERE a_id = ? ORDER BY id DESC' };

describe('refresh and refreshAll', { skip }, () => {
  // Every test changes the origin: each gets its own database and cache file, warmed by a FRESHEN view.
  let db: TestDb;
  let file: string;
  let n = 0;
  const tmp = tempDir();
  beforeEach(async () => {
    db = await createTestDb(...AB_TABLES);
    file = tmp.file(`refresh-${++n}.db`);
    await using store = await online(Mode.FRESHEN);
    await using view = store.view();
    const as = await view.A.many([1, 2, 3]);
    await Promise.all(as.map((a) => a.bs));
    await (await view.A(1)).b;
    await view.B(4);
    await assert.rejects(view.B(99), NotFoundError);
    await view.query('B', BS_DESC);
  });
  afterEach(async () => {
    await db.drop();
  });
  after(() => tmp.remove());

  const stores = fileStores(abSchema, () => ({ url: db.url, file }));
  const online = (mode: Mode, batchSize?: number) => stores.online(mode, batchSize === undefined ? {} : { batchSize });
  const offline = stores.offline;

  it('view.refresh(entity) reads the row from the origin now, even in PREFER_CACHE, into the same object', async () => {
    await db.exec("UPDATE a SET name = 'a1 renamed' WHERE id = 1");
    {
      await using store = await online(Mode.PREFER_CACHE);
      await using view = store.view();
      const cached = await measure(db, store, () => view.A(1));
      assert.equal(cached.originQueries, 0);
      assert.equal(cached.selects, 0);
      const a1 = cached.value;
      assert.equal(a1.name, 'a1', 'the cached value');
      const step = await measure(db, store, () => view.refresh(a1));
      assert.equal(step.originQueries, 1);
      assert.equal(step.selects, 1);
      assert.equal(step.value, a1, 'the same object');
      assert.equal(a1.name, 'a1 renamed', 'now showing the origin value');
      const again = await measure(db, store, () => view.A(1));
      assert.equal(again.value, a1);
      assert.equal(again.originQueries, 0);
      assert.equal(again.selects, 0);
      await db.exec("UPDATE a SET name = 'a1 again' WHERE id = 1");
      const twice = await measure(db, store, () => view.refresh(a1));
      assert.equal(twice.originQueries, 1, 'each refresh reads again (store.stats)');
      assert.equal(twice.selects, 1, 'each refresh reads again');
      assert.equal(a1.name, 'a1 again');
    }
    await using store = await offline();
    assert.equal((await store.view().A(1)).name, 'a1 again', 'and the cache has it');
  });

  it('view.refresh(entity, relation) re-reads a hasMany now; the relation then shows it without a statement', async () => {
    await db.exec("INSERT INTO b VALUES (5, 'b5', 1)", 'DELETE FROM b WHERE id = 2', "UPDATE b SET name = 'b3 renamed' WHERE id = 3");
    {
      await using store = await online(Mode.PREFER_CACHE);
      await using view = store.view();
      const a1 = await view.A(1);
      const stale = await measure(db, store, () => a1.bs);
      assert.equal(stale.originQueries, 0);
      assert.equal(stale.selects, 0);
      assert.deepEqual(stale.value.map((b) => b.id), [1, 2, 3]);
      const step = await measure(db, store, () => view.refresh(a1, 'bs'));
      assert.equal(step.originQueries, 1);
      assert.equal(step.selects, 1);
      assert.deepEqual(step.value.map((b) => b.id), [1, 3, 5]);
      assert.equal(step.value[0], stale.value[0], 'the same objects for the same rows');
      assert.equal(stale.value[2]?.name, 'b3 renamed');
      const after = await measure(db, store, () => a1.bs);
      assert.equal(after.originQueries, 0);
      assert.equal(after.selects, 0);
      assert.equal(after.value, step.value, 'a1.bs is the refreshed answer');
    }
    await using store = await offline();
    await using view = store.view();
    assert.deepEqual((await (await view.A(1)).bs).map((b) => b.id), [1, 3, 5]);
  });

  it('view.refresh right after the view loaded the same lookup from the origin still reads it again', async () => {
    await using store = await online(Mode.FRESHEN);
    await using view = store.view();
    const a1 = await view.A(1);
    const bs = await a1.bs;
    assert.deepEqual(bs.map((b) => b.id), [1, 2, 3]);
    await db.exec("UPDATE a SET name = 'a1 renamed' WHERE id = 1", "INSERT INTO b VALUES (5, 'b5', 1)");
    const entity = await measure(db, store, () => view.refresh(a1));
    assert.equal(entity.originQueries, 1, 'store.stats: one origin statement');
    assert.equal(entity.selects, 1);
    assert.equal(a1.name, 'a1 renamed');
    const rel = await measure(db, store, () => view.refresh(a1, 'bs'));
    assert.equal(rel.originQueries, 1, 'store.stats: one origin statement');
    assert.equal(rel.selects, 1);
    assert.deepEqual(rel.value.map((b) => b.id), [1, 2, 3, 5]);
  });

  it('view.refresh of a hasOne and of a belongsTo', async () => {
    await db.exec('DELETE FROM b WHERE id = 1', "UPDATE a SET name = 'a2 renamed' WHERE id = 2");
    await using store = await online(Mode.PREFER_CACHE);
    await using view = store.view();
    const a1 = await view.A(1);
    assert.equal((await a1.b)?.id, 1, 'cached');
    const one = await measure(db, store, () => view.refresh(a1, 'b'));
    assert.equal(one.originQueries, 1);
    assert.equal(one.selects, 1);
    assert.equal(one.value?.id, 2);
    assert.equal((await a1.b)?.id, 2);
    const b4 = await view.B(4);
    const parent = await measure(db, store, () => view.refresh(b4, 'a'));
    assert.equal(parent.originQueries, 1);
    assert.equal(parent.selects, 1);
    assert.equal(parent.value.name, 'a2 renamed');
    assert.equal(await b4.a, parent.value);
  });

  it('view.refresh of a row deleted at the origin rejects NotFoundError, and the cache records it absent', async () => {
    await db.exec('DELETE FROM a WHERE id = 3');
    {
      await using store = await online(Mode.PREFER_CACHE);
      await using view = store.view();
      const a3 = await view.A(3);
      await assert.rejects(view.refresh(a3), NotFoundError);
    }
    await using store = await offline();
    await assert.rejects(store.view().A(3), NotFoundError);
  });

  it('view.refresh: an unknown relation is a TypeError; without an origin it is IsOfflineError', async () => {
    {
      await using store = await online(Mode.PREFER_CACHE);
      await using view = store.view();
      const a1 = await view.A(1);
      await assert.rejects(view.refresh(a1, 'nope' as never), (e: unknown) => e instanceof TypeError && /nope/.test(e.message));
      await assert.rejects(view.refresh({} as never), TypeError);
    }
    await using store = await offline();
    await using view = store.view();
    const a1 = await view.A(1);
    await assert.rejects(view.refresh(a1), IsOfflineError);
    await assert.rejects(view.refresh(a1, 'bs'), IsOfflineError);
    assert.deepEqual((await a1.bs).map((b) => b.id), [1, 2, 3], 'the cached answer is still there');
  });

  it('store.refreshAll re-reads every complete lookup in batches, reporting progress; offline then sees the origin', async () => {
    const marks = await queryCacheFile<{ kind: string; n: number }>(file, 'SELECT kind, COUNT(*) AS n FROM ever_loaded GROUP BY kind ORDER BY kind');
    assert.deepEqual(marks.map((m) => m.kind), ['A', 'A.b', 'A.bs', 'B', 'q:bs-desc'], 'entities, relations and the query are recorded');
    const total = marks.reduce((sum, m) => sum + m.n, 0);
    const batchSize = 2;
    const statements = marks.reduce((sum, m) => sum + (m.kind.startsWith('q:') ? m.n : Math.ceil(m.n / batchSize)), 0);

    await db.exec(
      "UPDATE a SET name = 'a2 renamed' WHERE id = 2",
      'UPDATE b SET a_id = 2 WHERE id = 2',
      'DELETE FROM a WHERE id = 3',
      "INSERT INTO b VALUES (99, 'b99', 1)",
      'DELETE FROM b WHERE id = 1',
    );
    {
      await using store = await online(Mode.PREFER_CACHE, batchSize);
      const progress: { kind: string; done: number; total: number }[] = [];
      const step = await measure(db, store, () => store.refreshAll({ onProgress: (p) => progress.push({ ...p }) }));
      assert.equal(step.value.lookups, total);
      assert.equal(step.originQueries, statements, `one statement per kind and batch of ${batchSize} keys, one per query`);
      assert.equal(step.selects, statements, `one statement per kind and batch of ${batchSize} keys, one per query`);
      assert.ok(progress.length >= marks.length);
      assert.ok(progress.every((p) => p.total === total));
      assert.ok(progress.every((p, i) => i === 0 || p.done >= (progress[i - 1] as { done: number }).done), 'done only grows');
      assert.equal(progress.at(-1)?.done, total, 'progress reaches the total');
      assert.deepEqual([...new Set(progress.map((p) => p.kind))].sort(), marks.map((m) => m.kind));
    }
    await using store = await offline();
    await using view = store.view();
    const [a1, a2] = await view.A.many([1, 2]);
    assert.equal(a2?.name, 'a2 renamed');
    await assert.rejects(view.A(3), NotFoundError, 'deleted at the origin');
    assert.deepEqual((await a1!.bs).map((b) => b.id), [3, 99], 'B 1 deleted, B 2 moved away, B 99 new');
    assert.deepEqual((await a2!.bs).map((b) => b.id), [2, 4]);
    assert.equal((await a1!.b)?.id, 3);
    assert.equal((await view.B(99)).name, 'b99', 'recorded absent before, present now');
    assert.deepEqual((await view.query('B', BS_DESC)).map((b) => b.id), [99, 3], 'the custom query answer, in its order');
  });

  it('store.refreshAll without an origin is IsOfflineError', async () => {
    await using store = await offline();
    await assert.rejects(store.refreshAll(), IsOfflineError);
  });
});
