// Local changes (put, patch, remove): kept in the cache file, shown by every view of every store on it in every mode, never written to the origin.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IsOfflineError, Mode, mysqlOrigin, NotFoundError, openStore, type View } from 'asyncdbview';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { testCache } from './helpers/cache-driver.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { originWrites } from './helpers/origin-writes.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const MODES = [Mode.FRESHEN, Mode.PREFER_CACHE, Mode.OFFLINE_FALLBACK, Mode.OFFLINE] as const;

type AB = typeof abSchema.entities;
const ids = (rows: readonly { id: number }[]) => rows.map((r) => r.id);

/** What the edits of the first test make every view show. */
async function assertEdited(view: View<AB>, what: string): Promise<void> {
  const a1 = await view.A(1);
  const bs1 = await a1.bs;
  assert.deepEqual(ids(bs1), [1, 5], `${what}: A 1's bs lose B 2 (moved) and B 3 (removed), gain B 5 (put)`);
  assert.equal(bs1[0]?.name, 'b1*', `${what}: the patched column`);
  assert.deepEqual(ids(await (await view.A(2)).bs), [2, 4], `${what}: B 2 moved to A 2`);
  await assert.rejects(view.B(3), NotFoundError, `${what}: B 3 removed`);
  const b5 = await view.B(5);
  assert.equal(await b5.a, a1, `${what}: belongsTo of a put row`);
  assert.equal((await (await view.B(2)).a).id, 2, `${what}: belongsTo follows the patched foreign key`);
  assert.equal((await a1.b)?.id, 1, `${what}: hasOne`);
  assert.equal((await view.A(4)).name, 'a4', `${what}: a row only local`);
  assert.deepEqual(ids(await view.B.many([1, 2, 5])), [1, 2, 5], `${what}: many`);
  assert.deepEqual((await view.B.many([3, 4], { nullForMissing: true })).map((b) => b?.id ?? null), [null, 4], `${what}: many, removed is missing`);
}

describe('local changes', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  let n = 0;
  const cacheFile = () => tmp.file(`local-${++n}.db`);
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('put, patch and remove show in lookups and relations, in every mode, in every store on the file, after reopening; the origin is never written', async () => {
    const file = cacheFile();
    const writes0 = await originWrites(db);
    {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file) });
      {
        await using warm = store.view();
        for (const a of await warm.A.many([1, 2, 3])) await Promise.all([a.bs, a.b]);
        await warm.B.many([1, 2, 3, 4]);
      }
      await using view = store.view();
      const b5 = await view.B.put({ id: 5, name: 'b5', a_id: 1 });
      assert.equal(b5.name, 'b5');
      assert.equal((await view.B.patch(2, { a_id: 2 })).a_id, 2);
      assert.equal((await view.B.patch(1, { name: 'b1*' })).name, 'b1*');
      await view.B.remove(3);
      await view.A.put({ id: 4, name: 'a4' });
      await assertEdited(view, 'the view that made them');
      for (const mode of MODES) {
        await using other = store.view({ mode });
        await assertEdited(other, `a new view, ${mode}`);
      }
      // Another store on the same file, without an origin.
      await using second = await openStore(abSchema, { origin: null, cache: testCache(file) });
      await using offline = second.view();
      await assertEdited(offline, 'another store on the file');
    }
    await using reopened = await openStore(abSchema, { origin: null, cache: testCache(file) });
    await using view = reopened.view();
    const cost = await measure(db, reopened, () => assertEdited(view, 'after reopening, offline'));
    assert.equal(cost.selects, 0);
    assert.deepEqual(await originWrites(db), writes0, 'Com_insert/update/delete unchanged');
  });

  it('a relation not yet complete goes to the origin (as the mode says) and the local changes apply on top of its answer', async () => {
    const writes0 = await originWrites(db);
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()), mode: Mode.PREFER_CACHE });
    await using view = store.view();
    await view.B.put({ id: 6, name: 'b6', a_id: 3 });
    await view.B.patch(4, { a_id: 3 });
    // A 3's bs was never loaded: in OFFLINE it is not complete, and a put does not make it so.
    await using offline = store.view({ mode: Mode.OFFLINE });
    await assert.rejects((await offline.A.put({ id: 3, name: 'a3*' })).bs, IsOfflineError);
    for (const mode of [Mode.PREFER_CACHE, Mode.FRESHEN]) {
      await using v = store.view({ mode });
      const cost = await measure(db, store, async () => ids(await (await v.A(3)).bs));
      assert.deepEqual(cost.value, [4, 6], `${mode}: the origin's answer (none) with B 4 moved in and B 6 put`);
      assert.ok(cost.selects > 0, `${mode}: asked the origin`);
      assert.deepEqual(ids(await (await v.A(2)).bs), [], `${mode}: B 4 moved out of A 2`);
      assert.equal((await v.A(3)).name, 'a3*');
    }
    await using after = store.view({ mode: Mode.OFFLINE });
    assert.deepEqual(ids(await (await after.A(3)).bs), [4, 6], 'now complete, answered offline');
    assert.deepEqual(await originWrites(db), writes0);
  });

  it('offline: a put or remove of a row never loaded is kept (made against an origin row not known); a patch of one is IsOfflineError', async () => {
    const writes0 = await originWrites(db);
    const file = cacheFile();
    await using store = await openStore(abSchema, { origin: null, cache: testCache(file) });
    await using view = store.view();
    await view.B.put({ id: 7, name: 'b7', a_id: 1 });
    await view.B.remove(1);
    await assert.rejects(view.B.patch(2, { name: 'x' }), IsOfflineError);
    assert.equal((await view.B(7)).name, 'b7');
    await assert.rejects(view.B(1), NotFoundError);
    const changes = await store.localChanges();
    assert.deepEqual(changes.map((c) => [c.entity, c.key, c.kind, c.base, c.conflict]), [['B', 7, 'put', undefined, false], ['B', 1, 'remove', undefined, false]]);
    // Online, the origin's answers are merged under the changes: B 1 stays removed, B 7 stays.
    await using online = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file) });
    await using v = online.view();
    assert.deepEqual(ids(await (await v.A(1)).bs), [2, 3, 7]);
    await assert.rejects(v.B(1), NotFoundError);
    await online.flush(); // another store sees an answer once its write has committed
    assert.deepEqual(ids(await (await view.A(1)).bs), [2, 3, 7], 'the offline store sees the answer now complete in the file');
    const listed = await online.localChanges();
    assert.deepEqual(listed.map((c) => [c.key, c.origin === undefined ? undefined : c.origin?.name]), [[7, undefined], [1, 'b1']], 'the origin row B 1 a load brought is recorded');
    assert.deepEqual(await originWrites(db), writes0);
  });

  it('bad input is a TypeError naming the column; nothing is written', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()) });
    await using view = store.view();
    await assert.rejects(view.B.put({ id: 8, name: 'x' } as any), /column a_id is missing/);
    await assert.rejects(view.B.put({ id: 8, name: 'x', a_id: '1' } as any), /column a_id of B must be a safe integer number.*got "1"/);
    await assert.rejects(view.B.put({ id: 8, name: 'x', a_id: 1, nope: 1 } as any), /B has no column "nope"/);
    await assert.rejects(view.B.patch(1, { id: 9 } as any), /id is a key column of B/);
    await assert.rejects(view.B.patch(1, { name: null } as any), /column name of B is not nullable/);
    await assert.rejects(view.B.patch(99, { name: 'x' }), NotFoundError);
    await assert.rejects(view.B.remove(99), NotFoundError);
    await assert.rejects(view.B.put(null as any), /expected an object of B columns, got null/);
    assert.deepEqual(await store.localChanges(), []);
  });

  it('localChanges() lists each change with the origin row it was made against, the one now at the origin and conflicts; { sql: true } renders statements; { local: false } shows the origin; discard puts the origin back', async () => {
    const own = await createTestDb(...AB_TABLES);
    try {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(own.url), cache: testCache(cacheFile()) });
      {
        await using warm = store.view();
        await Promise.all((await warm.A.many([1, 2])).map((a) => a.bs));
      }
      const writes0 = await originWrites(own);
      await using view = store.view();
      await view.B.patch(1, { name: "it's b1" });
      await view.B.put({ id: 5, name: 'b5', a_id: 2 });
      await view.B.put({ id: 4, name: 'b4*', a_id: 2 });
      await view.B.remove(3);
      assert.deepEqual(await originWrites(own), writes0, 'no origin write');
      let changes = await store.localChanges();
      assert.deepEqual(
        changes.map((c) => [c.entity, c.key, c.kind, c.base?.name ?? c.base, c.origin, c.local?.name ?? null, c.conflict]),
        [['B', 1, 'patch', 'b1', undefined, "it's b1", false], ['B', 5, 'put', null, undefined, 'b5', false], ['B', 4, 'put', 'b4', undefined, 'b4*', false], ['B', 3, 'remove', 'b3', undefined, null, false]],
      );
      assert.deepEqual(changes[0]?.columns, ['name']);
      assert.deepEqual(await store.localChanges({ sql: true }), [
        "UPDATE `b` SET `name` = 'it\\'s b1' WHERE `id` = 1;",
        "INSERT INTO `b` (`id`, `name`, `a_id`) VALUES (5, 'b5', 2);",
        "UPDATE `b` SET `name` = 'b4*', `a_id` = 2 WHERE `id` = 4;",
        'DELETE FROM `b` WHERE `id` = 3;',
      ]);
      // The origin changes B 1 under the change; a FRESHEN load brings it: a conflict, and the local row still wins.
      await own.exec("UPDATE b SET name = 'b1 at origin' WHERE id = 1");
      const writes1 = await originWrites(own);
      await using fresh = store.view();
      assert.equal((await fresh.B(1)).name, "it's b1", 'the local version wins');
      changes = await store.localChanges();
      assert.equal(changes[0]?.conflict, true);
      assert.equal(changes[0]?.origin?.name, 'b1 at origin');
      assert.deepEqual(changes.slice(1).map((c) => c.conflict), [false, false, false]);

      // The origin's truth, in a view of its own: in the cache's modes and from the origin.
      for (const mode of MODES) {
        await using truth = store.view({ mode, local: false });
        assert.equal((await truth.B(1)).name, 'b1 at origin', `${mode}: B 1 as at the origin`);
        assert.deepEqual(ids(await (await truth.A(1)).bs), [1, 2, 3], `${mode}: B 3 is there`);
        assert.deepEqual(ids(await (await truth.A(2)).bs), [4], `${mode}: B 5 is not`);
        assert.equal((await truth.B(4)).name, 'b4');
        await assert.rejects(truth.B(5), NotFoundError, 'the origin has no B 5 (made against none)');
        await assert.rejects(truth.B.put({ id: 6, name: 'x', a_id: 1 }), /local: false/);
      }
      await using local = store.view({ mode: Mode.OFFLINE });
      assert.deepEqual(ids(await (await local.A(2)).bs), [4, 5], 'the local view still shows them');

      assert.equal(await store.discardLocalChanges({ entity: 'B', keys: [1] }), 1);
      assert.equal(await store.discardLocalChanges((c) => c.key === 5), 1);
      {
        await using after = store.view({ mode: Mode.PREFER_CACHE });
        assert.equal((await after.B(1)).name, 'b1 at origin', 'the origin row a load brought is back');
        assert.deepEqual(ids(await (await after.A(2)).bs), [4]);
        await assert.rejects(after.B(5), NotFoundError);
        assert.equal((await after.B(4)).name, 'b4*');
      }
      assert.equal(await store.discardLocalChanges(), 2);
      assert.deepEqual(await store.localChanges(), []);
      await using after = store.view({ mode: Mode.PREFER_CACHE });
      assert.deepEqual(ids(await (await after.A(1)).bs), [1, 2, 3]);
      assert.equal((await after.B(4)).name, 'b4');
      assert.deepEqual(await originWrites(own), writes1, 'no origin write');
      const report = await store.verify();
      assert.equal(report.ok, true, report.problems.join('; '));
    } finally {
      await own.drop();
    }
  });

  it('conflicts, exactly: the latest origin row a load brought differs from the one the change was made against (equal to the local value, deleted, re-created, or changed and back)', async () => {
    const own = await createTestDb(...AB_TABLES);
    try {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(own.url), cache: testCache(cacheFile()) });
      const load = async () => {
        await using v = store.view(); // FRESHEN: every entity lookup asks the origin
        await v.B.many([1, 2, 3, 4, 20], { nullForMissing: true });
        await v.A.all();
      };
      await load();
      {
        await using view = store.view();
        await view.B.patch(1, { name: 'x' });
        await view.B.remove(2);
        await view.B.patch(3, { name: 'y' });
        await view.B.put({ id: 4, name: 'b4*', a_id: 2 });
        await view.B.put({ id: 20, name: 'b20 here', a_id: 1 });
        await view.A.remove(3);
        await view.A.patch(2, { name: 'a2*' });
      }
      const conflicts = async () => Object.fromEntries((await store.localChanges()).map((c) => [`${c.entity} ${String(c.key)}`, c.conflict]));
      await load();
      assert.deepEqual(await conflicts(), { 'B 1': false, 'B 2': false, 'B 3': false, 'B 4': false, 'B 20': false, 'A 3': false, 'A 2': false }, 'the origin has not changed: no conflict');

      await own.exec(
        "UPDATE b SET name = 'x' WHERE id = 1", // to what the local change made it
        'DELETE FROM b WHERE id = 2', // removed here, deleted there
        'DELETE FROM b WHERE id = 3', // patched here, deleted there
        "UPDATE b SET name = 'b4 for a while' WHERE id = 4",
        "INSERT INTO b VALUES (20, 'b20 there', 1)", // put here against none, created there
        'DELETE FROM a WHERE id = 3', // removed here, deleted there: found by a whole-table read
      );
      let writes0 = await originWrites(own);
      await load();
      let changes = await store.localChanges();
      assert.deepEqual(await conflicts(), { 'B 1': true, 'B 2': true, 'B 3': true, 'B 4': true, 'B 20': true, 'A 3': true, 'A 2': false });
      const byKey = (entity: string, key: number) => changes.find((c) => c.entity === entity && c.key === key);
      assert.equal(byKey('B', 1)?.origin?.name, 'x', 'the origin row now equals the local one: still made against an older row');
      assert.equal(byKey('B', 2)?.origin, null, 'deleted at the origin');
      assert.equal(byKey('B', 3)?.origin, null);
      assert.equal(byKey('A', 3)?.origin, null, 'a whole-table read records the deletion too');
      assert.equal(byKey('B', 20)?.base, null);
      assert.equal(byKey('B', 20)?.origin?.name, 'b20 there');
      {
        await using view = store.view({ mode: Mode.OFFLINE });
        assert.equal((await view.B(3)).name, 'y', 'the local version still wins');
        assert.equal((await view.B(20)).name, 'b20 here');
        await assert.rejects(view.B(2), NotFoundError);
        await using truth = store.view({ mode: Mode.OFFLINE, local: false });
        await assert.rejects(truth.B(3), NotFoundError, 'the origin has no B 3 now');
        assert.deepEqual(ids(await truth.A.all()), [1, 2]);
      }
      // The origin row goes back to the one B 4's change was made against: no conflict any more.
      assert.deepEqual(await originWrites(own), writes0, 'no origin write');
      await own.exec("UPDATE b SET name = 'b4' WHERE id = 4");
      writes0 = await originWrites(own);
      await load();
      changes = await store.localChanges();
      assert.equal(byKey('B', 4)?.conflict, false);
      assert.equal(byKey('B', 4)?.origin?.name, 'b4');
      assert.deepEqual(await originWrites(own), writes0, 'no origin write');
      const report = await store.verify();
      assert.equal(report.ok, true, report.problems.join('; '));
    } finally {
      await own.drop();
    }
  });

  it('preloads (tree and levels), includes in one round trip and custom queries show the changes; rows added locally are not in a query answer', async () => {
    const writes0 = await originWrites(db);
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(cacheFile()) });
    {
      await using view = store.view();
      await view.B.put({ id: 5, name: 'b5', a_id: 1 });
      await view.B.patch(1, { name: 'b1*' });
      await view.B.remove(2);
    }
    for (const mode of [Mode.FRESHEN, Mode.PREFER_CACHE, Mode.OFFLINE]) {
      for (const strategy of ['tree', 'levels'] as const) {
        await using v = store.view({ mode });
        const [a1] = await v.A.many([1], { include: { bs: { a: true } }, strategy });
        const bs = await a1!.bs;
        assert.deepEqual(ids(bs), [1, 3, 5], `${mode} ${strategy}`);
        assert.equal(bs[0]?.name, 'b1*');
        assert.equal(await bs[2]!.a, a1, `${mode} ${strategy}: the included belongsTo of a put row`);
        await using p = store.view({ mode });
        const as = await p.A.many([1]);
        await p.preload(as, { bs: true }, { strategy });
        assert.deepEqual(ids(await as[0]!.bs), [1, 3, 5], `${mode} preload ${strategy}`);
      }
      await using q = store.view({ mode });
      const rows = await q.query('B', { tag: 'bs-of', params: [1], sql: 'SELECT * FROM b WHERE a_id = ? ORDER BY id' });
      assert.deepEqual(ids(rows), [1, 3], `${mode}: the query's rows, B 2 removed, B 5 (local) not added`);
      assert.equal(rows[0]?.name, 'b1*');
    }
    assert.deepEqual(await originWrites(db), writes0);
  });
});

describe('whole tables: view.X.all()', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('answers every row in key order: FRESHEN from the origin in one statement, then PREFER_CACHE and OFFLINE from the cache; each row complete; local changes apply; a later origin change drops the mark', async () => {
    const file = tmp.file('all.db');
    const writes0 = await originWrites(db);
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), batchSize: 2 });
    {
      await using cold = store.view({ mode: Mode.OFFLINE });
      await assert.rejects(cold.B.all(), IsOfflineError);
    }
    await using fresh = store.view();
    const loaded = await measure(db, store, () => fresh.B.all());
    assert.deepEqual(ids(loaded.value), [1, 2, 3, 4]);
    assert.equal(loaded.selects, 1, 'one origin statement');
    assert.equal(loaded.value[0], await fresh.B(1), 'one object per row');
    for (const mode of [Mode.PREFER_CACHE, Mode.OFFLINE, Mode.OFFLINE_FALLBACK]) {
      await using v = store.view({ mode });
      const again = await measure(db, store, () => v.B.all());
      assert.deepEqual(ids(again.value), [1, 2, 3, 4], mode);
      assert.equal(again.selects, 0, `${mode}: from the cache`);
    }
    {
      await using offline = store.view({ mode: Mode.OFFLINE });
      assert.equal((await offline.B(4)).name, 'b4', "each row's entity lookup is complete");
      await offline.B.put({ id: 9, name: 'b9', a_id: 3 });
      await offline.B.remove(2);
      await offline.B.patch(1, { name: 'b1*' });
      const shown = await offline.B.all();
      assert.deepEqual(ids(shown), [1, 3, 4, 9], 'local changes apply');
      assert.equal(shown[0]?.name, 'b1*');
    }
    {
      await using v = store.view({ mode: Mode.OFFLINE });
      assert.deepEqual(ids(await v.B.all()), [1, 3, 4, 9], 'a local change does not drop the mark');
      await using truth = store.view({ mode: Mode.OFFLINE, local: false });
      assert.deepEqual(ids(await truth.B.all()), [1, 2, 3, 4]);
      await using f = store.view();
      assert.deepEqual(ids(await f.B.all()), [1, 3, 4, 9], 'FRESHEN: the origin rows, local changes on top');
    }
    assert.deepEqual(await originWrites(db), writes0, 'no origin write');
    // A row the origin added, brought by another lookup, makes the recorded whole table stale.
    await db.exec("INSERT INTO b VALUES (10, 'b10', 3)");
    await using f = store.view();
    await (await f.A(3)).bs;
    await using offline = store.view({ mode: Mode.OFFLINE });
    await assert.rejects(offline.B.all(), IsOfflineError);
    const report = await store.verify();
    assert.equal(report.ok, true, report.problems.join('; '));
  });

  it('store.refreshAll re-reads a whole table too: OFFLINE all() then answers the origin as it is now, local changes on top', async () => {
    const own = await createTestDb(...AB_TABLES);
    try {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(own.url), cache: testCache(tmp.file('refresh-all.db')), batchSize: 2 });
      {
        await using v = store.view();
        assert.deepEqual(ids(await v.B.all()), [1, 2, 3, 4]);
        await v.B.patch(1, { name: 'b1*' });
      }
      await own.exec("UPDATE b SET name = 'b4 at origin' WHERE id = 4", "INSERT INTO b VALUES (11, 'b11', 2)", 'DELETE FROM b WHERE id = 3');
      const writes0 = await originWrites(own);
      const progress: string[] = [];
      await store.refreshAll({ onProgress: (p) => progress.push(p.kind) });
      assert.ok(progress.includes('B.*'), `the whole table is one of the lookups refreshed (${[...new Set(progress)].join(', ')})`);
      await using offline = store.view({ mode: Mode.OFFLINE });
      const all = await offline.B.all();
      assert.deepEqual(ids(all), [1, 2, 4, 11], 'the origin as it is now: B 3 gone, B 11 new');
      assert.deepEqual(all.map((b) => b.name), ['b1*', 'b2', 'b4 at origin', 'b11'], 'the local patch on top');
      await using truth = store.view({ mode: Mode.OFFLINE, local: false });
      assert.deepEqual((await truth.B.all()).map((b) => b.name), ['b1', 'b2', 'b4 at origin', 'b11']);
      assert.deepEqual(await originWrites(own), writes0, 'no origin write');
      const report = await store.verify();
      assert.equal(report.ok, true, report.problems.join('; '));
    } finally {
      await own.drop();
    }
  });
});
