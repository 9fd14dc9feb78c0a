import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { IsOfflineError, Mode, mysqlOrigin, NotFoundError, openStore } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { everLoadedKeys } from './helpers/cache-file.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { fileStores } from './helpers/file-stores.js';

const skip = await mysqlSkipReason();

describe('FRESHEN tells the truth', { skip }, () => {
  // Every test changes the origin: each gets its own database and cache file.
  let db: TestDb;
  let file: string;
  let n = 0;
  const tmp = tempDir();
  beforeEach(async () => {
    db = await createTestDb(...AB_TABLES);
    file = tmp.file(`freshen-${++n}.db`);
    // Warm the cache: A 1..3, their relations (hasMany and hasOne), B 99 absent.
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
    await using view = store.view();
    const as = await Promise.all([view.A(1), view.A(2), view.A(3)]);
    await Promise.all([...as.map((a) => a.bs), ...as.map((a) => a.b)]);
    await assert.rejects(view.B(99), NotFoundError);
  });
  afterEach(async () => {
    await db.drop();
  });
  after(() => tmp.remove());

  const { online, offline } = fileStores(abSchema, () => ({ url: db.url, file }));

  it('a column changed at the origin: FRESHEN sees the new value, and so does an OFFLINE store afterwards', async () => {
    await db.exec("UPDATE a SET name = 'a1 renamed' WHERE id = 1", "UPDATE b SET name = 'b2 renamed' WHERE id = 2");
    {
      await using before = await offline();
      assert.equal((await before.view().A(1)).name, 'a1', 'the cache is stale until something freshens it');
    }
    await using store = await online();
    {
      await using cached = store.view({ mode: Mode.PREFER_CACHE });
      const step = await measure(db, store, () => cached.A(1));
      assert.equal(step.value.name, 'a1', 'PREFER_CACHE: the cached value, no origin statement');
      assert.equal(step.selects, 0);
    }
    await using view = store.view();
    const a1 = await measure(db, store, () => view.A(1));
    assert.equal(a1.selects, 1);
    assert.equal(a1.value.name, 'a1 renamed');
    const bs = await a1.value.bs;
    assert.deepEqual(bs.map((b) => b.name), ['b1', 'b2 renamed', 'b3']);

    await using after = await offline();
    await using off = after.view();
    assert.equal((await off.A(1)).name, 'a1 renamed');
    assert.equal((await off.B(2)).name, 'b2 renamed');
    assert.deepEqual((await (await off.A(1)).bs).map((b) => b.name), ['b1', 'b2 renamed', 'b3']);
  });

  it('an object first read from the cache takes the new values when the row comes back fresh in the same view', async () => {
    await db.exec("UPDATE a SET name = 'a1 renamed' WHERE id = 1");
    await using store = await online(Mode.PREFER_CACHE);
    await using view = store.view();
    const a1 = await view.A(1);
    assert.equal(a1.name, 'a1');
    view.mode = Mode.FRESHEN;
    const again = await measure(db, store, () => view.A(1));
    assert.equal(again.selects, 1);
    assert.equal(again.value, a1, 'still one object per row');
    assert.equal(a1.name, 'a1 renamed');
  });

  it('a B moved to another parent leaves the refreshed A(1).bs, offline included, without B itself being reloaded', async () => {
    await db.exec('UPDATE b SET a_id = 2 WHERE id = 2');
    await using store = await online();
    await using view = store.view();
    const a1 = await view.A(1);
    const step = await measure(db, store, async () => a1.bs);
    assert.equal(step.selects, 1);
    assert.deepEqual(step.value.map((b) => b.id), [1, 3]);
    // Nothing asked for B 2 or A 2's relation: B 2 was not reloaded.

    await using after = await offline();
    await using off = after.view();
    const offA1 = await off.A(1);
    assert.deepEqual((await offA1.bs).map((b) => b.id), [1, 3], 'offline: B 2 no longer under A 1');
    const first = await offA1.b.then((b) => b?.id, (e: unknown) => e);
    assert.ok(first === 1 || first instanceof IsOfflineError, `offline A 1.b: ${String(first)}`);
    const b2 = await off.B(2).then((b) => b.a_id, (e: unknown) => e);
    assert.ok(b2 === 2 || b2 instanceof IsOfflineError, `offline B 2 must not still claim a_id 1; got ${String(b2)}`);
  });

  it('moving a B between two parents refreshed in one batch: both groups are right, online and offline', async () => {
    await db.exec('UPDATE b SET a_id = 2 WHERE id = 2');
    {
      await using store = await online();
      await using view = store.view();
      const [a1, a2] = await Promise.all([view.A(1), view.A(2)]);
      const level = await measure(db, store, () => Promise.all([a1.bs, a2.bs]));
      assert.equal(level.selects, 1);
      assert.deepEqual(level.value.map((bs) => bs.map((b) => b.id)), [[1, 3], [2, 4]]);
      assert.equal(await (await view.B(2)).a, a2);
    }
    await using after = await offline();
    await using off = after.view();
    const [a1, a2] = await Promise.all([off.A(1), off.A(2)]);
    assert.deepEqual((await a1.bs).map((b) => b.id), [1, 3]);
    assert.deepEqual((await a2.bs).map((b) => b.id), [2, 4]);
    assert.equal((await off.B(2)).a_id, 2);
  });

  it('in one view, switching to FRESHEN refreshes a relation first read from the cache', async () => {
    await db.exec('UPDATE b SET a_id = 2 WHERE id = 2');
    await using store = await online(Mode.PREFER_CACHE);
    await using view = store.view();
    const a1 = await view.A(1);
    const stale = await a1.bs;
    assert.deepEqual(stale.map((b) => b.id), [1, 2, 3], 'PREFER_CACHE: what the cache holds');
    view.mode = Mode.FRESHEN;
    const fresh = await a1.bs;
    assert.deepEqual(fresh.map((b) => b.id), [1, 3]);
    assert.equal(fresh[0], stale[0]);
    assert.equal(fresh[1], stale[2]);
  });

  it('a B deleted at the origin leaves the refreshed relation, offline included; then B is NotFoundError', async () => {
    await db.exec('DELETE FROM b WHERE id IN (1, 3)');
    await using store = await online();
    {
      await using view = store.view();
      const a1 = await view.A(1);
      assert.deepEqual((await a1.bs).map((b) => b.id), [2]);
    }
    {
      await using after = await offline();
      await using off = after.view();
      const a1 = await off.A(1);
      assert.deepEqual((await a1.bs).map((b) => b.id), [2], 'offline: B 1 and B 3 are gone from A 1.bs');
      const first = await a1.b.then((b) => b?.id, (e: unknown) => e);
      assert.ok(first === 2 || first instanceof IsOfflineError, `offline A 1.b must not be the deleted B 1; got ${String(first)}`);
      await assert.rejects(off.B(3), (e: unknown) => e instanceof IsOfflineError || e instanceof NotFoundError, 'B 3 is not served from the cache');
    }
    await using view = store.view();
    await assert.rejects(view.B(3), (e: unknown) => e instanceof NotFoundError && e.entity === 'B');
    await using after = await offline();
    await assert.rejects(after.view().B(3), NotFoundError);
  });

  it('every B of a parent deleted at the origin: the refreshed relation is empty, offline included', async () => {
    await db.exec('DELETE FROM b WHERE a_id = 2');
    {
      await using store = await online();
      await using view = store.view();
      const a2 = await view.A(2);
      assert.deepEqual(await a2.bs, []);
      assert.equal(await a2.b, null);
    }
    await using after = await offline();
    await using off = after.view();
    const a2 = await off.A(2);
    assert.deepEqual(await a2.bs, [], 'offline: A 2.bs is now complete and empty');
    const first = await a2.b.then((b) => b?.id ?? null, (e: unknown) => e);
    assert.ok(first === null || first instanceof IsOfflineError, `offline A 2.b must not be the deleted B 4; got ${String(first)}`);
  });

  it('a B inserted at the origin appears in the refreshed relation, offline included', async () => {
    await db.exec("INSERT INTO b VALUES (6, 'b6', 3), (7, 'b7', 1)");
    await using store = await online();
    {
      await using cached = store.view({ mode: Mode.PREFER_CACHE });
      const a3 = await cached.A(3);
      assert.deepEqual(await a3.bs, [], 'PREFER_CACHE: A 3.bs was recorded complete and empty');
    }
    await using view = store.view();
    const [a1, a3] = await Promise.all([view.A(1), view.A(3)]);
    assert.deepEqual((await Promise.all([a1.bs, a3.bs])).map((bs) => bs.map((b) => b.id)), [[1, 2, 3, 7], [6]]);
    assert.equal((await a3.b)?.id, 6);
    await using after = await offline();
    await using off = after.view();
    const [o1, o3] = await Promise.all([off.A(1), off.A(3)]);
    assert.deepEqual((await o1.bs).map((b) => b.id), [1, 2, 3, 7]);
    assert.deepEqual((await o3.bs).map((b) => b.id), [6]);
    assert.equal((await o3.b)?.id, 6);
  });

  it('an A deleted at the origin: FRESHEN view.A(k) is NotFoundError, and offline too', async () => {
    await db.exec('DELETE FROM a WHERE id = 3');
    await using store = await online();
    {
      await using cached = store.view({ mode: Mode.PREFER_CACHE });
      assert.equal((await cached.A(3)).name, 'a3', 'PREFER_CACHE: still in the cache before a FRESHEN lookup');
    }
    await using view = store.view();
    const step = await measure(db, store, () => view.A(3).then(() => undefined, (e: unknown) => e));
    assert.equal(step.selects, 1);
    assert.ok(step.value instanceof NotFoundError, `expected NotFoundError, got ${String(step.value)}`);
    assert.equal(step.value.entity, 'A');
    assert.deepEqual(step.value.keys, [3]);
    assert.deepEqual(await everLoadedKeys(file, 'A'), [1, 2, 3], 'A 3 stays marked: as absent');

    await using after = await offline();
    await assert.rejects(after.view().A(3), NotFoundError);
    await using cached = store.view({ mode: Mode.PREFER_CACHE });
    const prefer = await measure(db, store, () => assert.rejects(cached.A(3), NotFoundError));
    assert.equal(prefer.selects, 0, 'PREFER_CACHE: the recorded absence answers');
    // The other rows are untouched.
    assert.equal((await after.view().A(2)).name, 'a2');
  });

  it('an A that has Bs deleted at the origin: NotFoundError online and offline, its Bs still served', async () => {
    await db.exec('DELETE FROM a WHERE id = 1');
    {
      await using store = await online();
      await using view = store.view();
      await assert.rejects(view.A(1), NotFoundError);
      const b1 = await view.B(1);
      assert.equal(b1.a_id, 1);
    }
    await using after = await offline();
    await using off = after.view();
    await assert.rejects(off.A(1), NotFoundError);
    assert.equal((await off.B(2)).name, 'b2');
  });
});
