/**
 * The cache file changes under a running store without lies or raw errors. A process holds the file open
 * with one schema; another opening it with B defined differently is refused with a SchemaError naming B
 * and that process, and the running one keeps answering. Once it has closed (or died), the other schema
 * opens the file and migrates it. An entity renamed over the same table keeps its rows and drops the old
 * name's marks; renamed with its columns changed, its table is rebuilt: never `no such column`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { belongsTo, defineSchema, entity, hasMany, hasOne, IsOfflineError, Mode, mysqlOrigin, openStore, SchemaError } from 'asyncdbview';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { testCache } from './helpers/cache-driver.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { startWorker } from './helpers/worker-process.js';

const skip = await mysqlSkipReason();

const bExtra = defineSchema({
  A: entity({ table: 'a', key: 'id', columns: { id: 'integer', name: 'text' }, relations: { bs: hasMany('B', 'a_id'), b: hasOne('B', 'a_id') } }),
  B: entity({ table: 'b', key: 'id', columns: { id: 'integer', name: 'text', a_id: 'integer', extra: 'text?' }, relations: { a: belongsTo('A', 'a_id') } }),
});
/** A renamed to Alpha, same table and columns. */
const renamed = defineSchema({
  Alpha: entity({ table: 'a', key: 'id', columns: { id: 'integer', name: 'text' }, relations: { bs: hasMany('B', 'a_id') } }),
  B: entity({ table: 'b', key: 'id', columns: { id: 'integer', name: 'text', a_id: 'integer' }, relations: { a: belongsTo('Alpha', 'a_id') } }),
});
/** A renamed to Alpha2 over the same table, with its name column now called label (the origin has both). */
const renamedChanged = defineSchema({
  Alpha2: entity({ table: 'a', key: 'id', columns: { id: 'integer', label: 'text' }, relations: { bs: hasMany('B', 'a_id') } }),
  B: entity({ table: 'b', key: 'id', columns: { id: 'integer', name: 'text', a_id: 'integer' }, relations: { a: belongsTo('Alpha2', 'a_id') } }),
});

describe('the file changes under a running store', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...AB_TABLES, 'ALTER TABLE a ADD COLUMN label VARCHAR(20) NULL', "UPDATE a SET label = CONCAT('label ', id)");
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  async function warm(file: string): Promise<void> {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
    await using view = store.view();
    const as = await view.A.many([1, 2, 3]);
    await Promise.all(as.map((a) => a!.bs));
  }

  it('another schema for B is refused while a process holds the file with the old one; that process keeps answering', async () => {
    const file = tmp.file('held.db');
    await warm(file);
    const worker = startWorker('hold-open.js', { file, variant: 'ab' });
    try {
      assert.equal(await worker.line('open'), '');
      const refused = await openStore(bExtra, { origin: null, cache: testCache(file), mode: Mode.OFFLINE }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      assert.ok(refused instanceof SchemaError, String(refused));
      assert.match(refused.message, new RegExp(`^B: the cache file .* is in use by process ${worker.child.pid}, which defines table "b" differently`));
      worker.child.stdin!.write('read\n');
      assert.equal(await worker.line('read'), JSON.stringify(['b1', 'b2', 'b3', 'b4']), 'the running store still answers, from an unchanged table');

      // The same schema is welcome meanwhile.
      {
        await using same = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
        await using view = same.view();
        assert.equal((await view.B(4)).name, 'b4');
      }
      worker.child.stdin!.write('close\n');
      await worker.line('closed');
      await worker.exited;
      await using changed = await openStore(bExtra, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await using view = changed.view();
      await assert.rejects(view.B(4), IsOfflineError, "B's rows were written for the old columns: dropped, not served");
      assert.equal((await view.A(1)).name, 'a1', "A's stay");
    } finally {
      worker.child.kill('SIGKILL');
    }
  });

  it('a process that died holding the file does not block another schema', async () => {
    const file = tmp.file('died.db');
    await warm(file);
    const worker = startWorker('hold-open.js', { file, variant: 'b-extra' });
    assert.equal(await worker.line('open'), '');
    worker.child.kill('SIGKILL');
    await worker.exited;
    assert.equal((await queryCacheFile(file, 'SELECT pid FROM adbv_users')).length, 1, 'its registration is left behind');
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.PREFER_CACHE });
    await using view = store.view();
    assert.deepEqual((await (await view.A(1)).bs).map((b) => b.name), ['b1', 'b2', 'b3']);
    assert.deepEqual(await queryCacheFile(file, 'SELECT pid FROM adbv_users'), [{ pid: process.pid }], 'only this process is registered now');
  });

  it('an entity renamed over the same table keeps its rows and drops the old name\'s marks; renamed with changed columns, its table is rebuilt', async () => {
    const file = tmp.file('renamed.db');
    await warm(file);
    {
      await using store = await openStore(renamed, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
      await using view = store.view();
      assert.equal((await view.Alpha(1)).name, 'a1', 'the rows of table a stay');
      await assert.rejects(async () => await (await view.Alpha(1)).bs, IsOfflineError, 'A.bs was recorded for A: not claimed by Alpha');
      assert.deepEqual((await store.verify()).problems, [], 'no marks of a kind the schema does not know are left');
    }
    {
      await using store = await openStore(renamedChanged, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.PREFER_CACHE });
      await using view = store.view();
      const a1 = await view.Alpha2(1);
      assert.equal(a1.label, 'label 1', 'table a rebuilt with the new columns, loaded from the origin');
      assert.deepEqual((await a1.bs).map((b) => b.name), ['b1', 'b2', 'b3']);
      assert.deepEqual((await store.verify()).problems, []);
    }
    await using store = await openStore(renamedChanged, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = store.view();
    assert.equal((await view.Alpha2(1)).label, 'label 1', 'and it stays, offline');
  });
});
