import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  belongsTo, defineSchema, entity, hasMany, hasOne, IsOfflineError, Mode, mysqlOrigin, NotFoundError, openStore,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { everLoadedKeys, queryCacheFile } from './helpers/cache-file.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

const NO_BS: readonly never[] = Object.freeze([]);
const NO_B = Object.freeze({ fallback: 'hasOne' });
const UNKNOWN_A = Object.freeze({ fallback: 'belongsTo' });

/** The quick-start schema with an offlineFallback on every relation (same tables, so same cache file). */
const fallbackSchema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id', { offlineFallback: NO_BS }), b: hasOne('B', 'a_id', { offlineFallback: NO_B }) },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer' },
    relations: { a: belongsTo('A', 'a_id', { mode: Mode.PREFER_CACHE, offlineFallback: UNKNOWN_A }) },
  }),
});

/** A hasOne whose target's key is the foreign key itself (a 1:1 "extension" table). */
const profileSchema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { profile: hasOne('P', 'a_id') },
  }),
  P: entity({
    table: 'profile', key: 'a_id',
    columns: { a_id: 'integer', bio: 'text' },
    relations: { a: belongsTo('A', 'a_id') },
  }),
});

describe('completeness', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const file = tmp.file('complete.db');
  before(async () => {
    db = await createTestDb(
      ...AB_TABLES,
      // A 4 has B 5; online only A 4 itself is loaded, never its relations.
      "INSERT INTO a VALUES (4, 'a4')",
      "INSERT INTO b VALUES (5, 'b5', 4)",
      'CREATE TABLE profile (a_id INT PRIMARY KEY, bio VARCHAR(100) NOT NULL)',
      "INSERT INTO profile VALUES (1, 'bio of a1')",
    );
    // The online loads everything below relies on.
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
    await using view = store.view();
    const [a1, a3, a4] = await Promise.all([view.A(1), view.A(3), view.A(4)]);
    assert.equal(a4.name, 'a4');
    assert.deepEqual((await a1.bs).map((b) => b.id), [1, 2, 3]);
    assert.deepEqual(await a3.bs, []);
    await assert.rejects(view.B(99), NotFoundError);
    assert.equal((await view.B(4)).a_id, 2);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('the cache file records what was loaded in ever_loaded, for entity keys and relation keys', async () => {
    assert.deepEqual(await everLoadedKeys(file, 'A'), [1, 3, 4]);
    assert.deepEqual(await everLoadedKeys(file, 'B'), [4, 99], 'B 4 asked by key, B 99 asked and absent');
    assert.deepEqual(await everLoadedKeys(file, 'A.bs'), [1, 3], 'A 3 marked complete although it has no rows');
    assert.deepEqual(await everLoadedKeys(file, 'A.b'), [], 'hasOne never loaded');
    const bRows = await queryCacheFile<{ id: number; a_id: number }>(file, 'SELECT id, a_id FROM b ORDER BY id');
    assert.deepEqual(bRows.map((r) => r.id), [1, 2, 3, 4], 'B rows of the relation and of B 4; no row for B 99');
    const marks = await queryCacheFile<{ loaded_at: number }>(file, 'SELECT loaded_at FROM ever_loaded');
    for (const m of marks) assert.ok(Number.isInteger(m.loaded_at) && m.loaded_at > Date.UTC(2020, 0, 1), `loaded_at ${m.loaded_at}`);
  });

  it('offline: a relation recorded complete with no rows is an empty array, not an error', async () => {
    await using store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    assert.equal(view.mode, Mode.OFFLINE);
    const a3 = await view.A(3);
    const bs = await a3.bs;
    assert.ok(Array.isArray(bs));
    assert.deepEqual(bs, []);
    assert.deepEqual((await (await view.A(1)).bs).map((b) => b.name), ['b1', 'b2', 'b3']);
    assert.equal(store.stats.originQueries, 0);
  });

  it('offline: rows reached only through a relation are answered by key', async () => {
    await using store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    const b2 = await view.B(2);
    assert.equal(b2.name, 'b2');
    assert.equal((await b2.a).name, 'a1');
  });

  it('offline: a key recorded absent is NotFoundError, a key never asked is IsOfflineError', async () => {
    await using store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    await assert.rejects(view.B(99), (e: unknown) => e instanceof NotFoundError && e.entity === 'B' && e.keys.length === 1 && e.keys[0] === 99);
    await assert.rejects(view.B(98), IsOfflineError);
    await assert.rejects(view.A(2), IsOfflineError);
    // In one batch too: each key gets its own answer.
    const settled = await Promise.allSettled([view.B(4), view.B(99), view.B(98)]);
    assert.equal(settled[0].status, 'fulfilled');
    assert.ok(settled[1].status === 'rejected' && settled[1].reason instanceof NotFoundError);
    assert.ok(settled[2].status === 'rejected' && settled[2].reason instanceof IsOfflineError);
  });

  it('offline: a relation never loaded is IsOfflineError (hasMany, hasOne, belongsTo)', async () => {
    await using store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    const [a1, a4, b4] = await Promise.all([view.A(1), view.A(4), view.B(4)]);
    await assert.rejects(a4.bs, IsOfflineError, 'A 4 was loaded but never its relation');
    await assert.rejects(a1.b, IsOfflineError, 'hasOne A.b never loaded, even though A.bs of A 1 was');
    await assert.rejects(b4.a, IsOfflineError, 'A 2 never loaded');
  });

  it('offline: with offlineFallback, a relation never loaded gives the fallback; a complete one its value', async () => {
    await using store = await openStore(fallbackSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    const [a1, a3, a4, b4, b1] = await Promise.all([view.A(1), view.A(3), view.A(4), view.B(4), view.B(1)]);
    assert.equal(await a4.bs, NO_BS);
    assert.equal(await a1.b, NO_B);
    assert.equal(await b4.a, UNKNOWN_A);
    const a3bs = await a3.bs;
    assert.deepEqual(a3bs, []);
    assert.notEqual(a3bs, NO_BS, 'a complete empty relation is its value, not the fallback');
    assert.deepEqual((await a1.bs).map((b) => b.id), [1, 2, 3]);
    assert.equal(await b1.a, a1, 'a belongsTo in the cache is the object, not the fallback');
    // The fallback is for relations only: an entity lookup still raises.
    await assert.rejects(view.A(2), IsOfflineError);
    assert.equal(store.stats.originQueries, 0);
  });

  it('an online store in an OFFLINE view answers like the offline store, with no origin statement', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    const step = await measure(db, store, async () => {
      const a3 = await view.A(3);
      assert.deepEqual(await a3.bs, []);
      await assert.rejects(view.B(99), NotFoundError);
      await assert.rejects(view.B(98), IsOfflineError);
      await assert.rejects((await view.A(4)).bs, IsOfflineError);
    });
    assert.equal(step.selects, 0);
    assert.equal(step.originQueries, 0);
  });

  it('a hasOne whose target is keyed by the foreign key: no row is null offline too', async () => {
    const pfile = tmp.file('profile.db');
    {
      await using online = await openStore(profileSchema, { origin: mysqlOrigin(db.url), cache: testCache(pfile), mode: Mode.FRESHEN });
      await using view = online.view();
      const [a1, a3] = await Promise.all([view.A(1), view.A(3)]);
      const [p1, p3] = await Promise.all([a1.profile, a3.profile]);
      assert.equal(p1?.bio, 'bio of a1');
      assert.equal(p3, null, 'online: A 3 has no profile');
    }
    assert.deepEqual(await everLoadedKeys(pfile, 'A.profile'), [1, 3]);
    await using offline = await openStore(profileSchema, { origin: null, cache: testCache(pfile), mode: Mode.OFFLINE });
    await using view = offline.view();
    const [a1, a3] = await Promise.all([view.A(1), view.A(3)]);
    assert.equal((await a1.profile)?.bio, 'bio of a1');
    assert.equal(JSON.stringify(await a3.profile), 'null', 'offline: A 3 has no profile');
    await assert.rejects(view.P(3), IsOfflineError, 'P 3 was never asked by key');
  });
});
