import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  belongsTo, createStore, defineSchema, entity, hasMany, hasOne, IsOfflineError, Mode, mysqlOrigin, openStore,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** abSchema with one column added to B. */
const abSchemaBExtra = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id'), b: hasOne('B', 'a_id') },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer', extra: 'text?' },
    relations: { a: belongsTo('A', 'a_id', { mode: Mode.PREFER_CACHE }) },
  }),
});

/** Tables the cache keeps for its own bookkeeping besides ever_loaded (schema fingerprints, custom queries): adbv_*. */
const INTERNAL = { has: (name: string) => name.startsWith('adbv_') };

describe('cache schema', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  /** Loads A 1..3 with their bs (and b.a) through a FRESHEN store into `file`. */
  async function warm(file: string): Promise<void> {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
    await using view = store.view();
    const as = await Promise.all([view.A(1), view.A(2), view.A(3)]);
    const groups = await Promise.all(as.map((a) => a.bs));
    await Promise.all(as.map((a) => a.b));
    assert.deepEqual(groups.map((g) => g.map((b) => b.id)), [[1, 2, 3], [4], []]);
  }

  it('after open, the cache file has one table per entity, with the schema\'s columns, plus ever_loaded', async () => {
    const file = tmp.file('tables.db');
    const store = createStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file) });
    await store.open();
    try {
      const f = await openSqlite(file, true);
      try {
        const tables = await f.tables();
        assert.deepEqual(tables.filter((t) => !INTERNAL.has(t)), ['a', 'b', 'ever_loaded']);
        // The schema's columns, then the cache's own read stamp (reserved: no schema column may start with _adbv_).
        assert.deepEqual(await f.columns('a'), ['id', 'name', '_adbv_read_at']);
        assert.deepEqual(await f.columns('b'), ['id', 'name', 'a_id', '_adbv_read_at']);
        const everLoaded = await f.columns('ever_loaded');
        assert.ok(everLoaded.length > 0, 'ever_loaded has columns');
        // The key column is the primary key.
        const pk = await f.all<{ name: string; pk: number }>('PRAGMA table_info(a)');
        assert.deepEqual(pk.filter((c) => c.pk > 0).map((c) => c.name), ['id']);
        const pkB = await f.all<{ name: string; pk: number }>('PRAGMA table_info(b)');
        assert.deepEqual(pkB.filter((c) => c.pk > 0).map((c) => c.name), ['id']);
        // Nothing is loaded yet.
        assert.deepEqual(await f.all('SELECT * FROM a'), []);
        assert.deepEqual(await f.all('SELECT * FROM ever_loaded'), []);
      } finally {
        await f.close();
      }
    } finally {
      await store.close();
    }
  });

  it('table names follow entity.table, not the entity name', async () => {
    const file = tmp.file('names.db');
    const schema = defineSchema({
      Author: entity({ table: 'authors', key: 'author_id', columns: { author_id: 'text', full_name: 'text', born: 'datetime?' }, relations: { posts: hasMany('Post', 'by') } }),
      Post: entity({ table: 'blog_posts', key: 'id', columns: { id: 'bigint', by: 'text', body: 'json' }, relations: {} }),
    });
    {
      await using _store = await openStore(schema, { origin: null, cache: testCache(file) });
    }
    const f = await openSqlite(file, true);
    try {
      assert.deepEqual((await f.tables()).filter((t) => !INTERNAL.has(t)), ['authors', 'blog_posts', 'ever_loaded']);
      assert.deepEqual(await f.columns('authors'), ['author_id', 'full_name', 'born', '_adbv_read_at']);
      assert.deepEqual(await f.columns('blog_posts'), ['id', 'by', 'body', '_adbv_read_at']);
    } finally {
      await f.close();
    }
  });

  it('loaded rows are in the entity tables and their completeness in ever_loaded', async () => {
    const file = tmp.file('loaded.db');
    await warm(file);
    const f = await openSqlite(file, true);
    try {
      assert.deepEqual(await f.all('SELECT id, name FROM a ORDER BY id'), [
        { id: 1, name: 'a1' }, { id: 2, name: 'a2' }, { id: 3, name: 'a3' },
      ]);
      assert.deepEqual((await f.all<{ id: number }>('SELECT id FROM b ORDER BY id')).map((r) => r.id), [1, 2, 3, 4]);
      const marks = await f.all<Record<string, unknown>>('SELECT * FROM ever_loaded');
      assert.ok(marks.length >= 3, `ever_loaded has marks (got ${marks.length})`);
    } finally {
      await f.close();
    }
  });

  it('reopening the same file keeps rows and completeness: offline lookups work', async () => {
    const file = tmp.file('reopen.db');
    await warm(file);
    for (let round = 0; round < 2; round++) {
      await using store = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await using view = store.view();
      const a1 = await view.A(1);
      assert.equal(a1.name, 'a1');
      assert.deepEqual((await a1.bs).map((b) => b.name), ['b1', 'b2', 'b3']);
      const a3 = await view.A(3);
      assert.deepEqual(await a3.bs, []);
      assert.equal(await a3.b, null);
      const b4 = await view.B(4);
      assert.equal(await b4.a, await view.A(2));
    }
    const f = await openSqlite(file, true);
    try {
      assert.deepEqual((await f.tables()).filter((t) => !INTERNAL.has(t)), ['a', 'b', 'ever_loaded']);
    } finally {
      await f.close();
    }
  });

  it('reopening with a column added to B drops B\'s completeness (offline B → IsOfflineError) and keeps A\'s', async () => {
    const file = tmp.file('changed.db');
    await warm(file);
    {
      await using store = await openStore(abSchemaBExtra, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await using view = store.view();
      // B's rows and marks are gone.
      await assert.rejects(view.B(1), IsOfflineError);
      await assert.rejects(view.B(4), IsOfflineError);
      // A's remain.
      const a1 = await view.A(1);
      assert.equal(a1.name, 'a1');
      assert.equal((await view.A(3)).name, 'a3');
      // A.bs and A.b read B's table, which was dropped: they must not claim to be complete.
      await assert.rejects(async () => await a1.bs, IsOfflineError);
      await assert.rejects(async () => await (await view.A(3)).bs, IsOfflineError);
      await assert.rejects(async () => await a1.b, IsOfflineError);
    }
    const f = await openSqlite(file, true);
    try {
      assert.deepEqual((await f.tables()).filter((t) => !INTERNAL.has(t)), ['a', 'b', 'ever_loaded']);
      assert.deepEqual(await f.columns('b'), ['id', 'name', 'a_id', 'extra', '_adbv_read_at']);
      assert.deepEqual(await f.columns('a'), ['id', 'name', '_adbv_read_at']);
      assert.deepEqual(await f.all('SELECT * FROM b'), []);
      assert.equal((await f.all('SELECT * FROM a')).length, 3);
    } finally {
      await f.close();
    }
  });

  it('after a schema change, new loads under the new schema are kept across reopening', async () => {
    const file = tmp.file('changed-then-loaded.db');
    await warm(file);
    const origin = await createTestDb(...AB_TABLES, 'ALTER TABLE b ADD COLUMN extra VARCHAR(20) NULL', "UPDATE b SET extra = CONCAT('x', id)");
    try {
      {
        await using store = await openStore(abSchemaBExtra, { origin: mysqlOrigin(origin.url), cache: testCache(file), mode: Mode.PREFER_CACHE });
        await using view = store.view();
        const a1 = await view.A(1);
        assert.equal(store.stats.originQueries, 0, 'A 1 still came from the cache');
        assert.deepEqual((await a1.bs).map((b) => b.extra), ['x1', 'x2', 'x3']);
        assert.equal(store.stats.originQueries, 1, 'A.bs had to go to the origin');
      }
      await using store = await openStore(abSchemaBExtra, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await using view = store.view();
      const a1 = await view.A(1);
      assert.deepEqual((await a1.bs).map((b) => [b.id, b.extra]), [[1, 'x1'], [2, 'x2'], [3, 'x3']]);
      assert.equal((await view.B(2)).extra, 'x2');
      await assert.rejects(view.B(4), IsOfflineError);
      // Going back to the old schema is a change again: B is dropped once more.
      await store.close();
      await using old = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await using oldView = old.view();
      await assert.rejects(oldView.B(2), IsOfflineError);
      assert.equal((await oldView.A(2)).name, 'a2');
    } finally {
      await origin.drop();
    }
  });

  it('changing a column type of B (not only adding one) also drops B\'s completeness', async () => {
    const file = tmp.file('retyped.db');
    await warm(file);
    const retyped = defineSchema({
      A: entity({ table: 'a', key: 'id', columns: { id: 'integer', name: 'text' }, relations: { bs: hasMany('B', 'a_id') } }),
      B: entity({ table: 'b', key: 'id', columns: { id: 'integer', name: 'json', a_id: 'integer' }, relations: {} }),
    });
    await using store = await openStore(retyped, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    await assert.rejects(view.B(1), IsOfflineError);
    assert.equal((await view.A(1)).name, 'a1');
  });
});
