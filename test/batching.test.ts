import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore, sqliteCache } from 'asyncdbview';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { countSelects, createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

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
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: sqliteCache(tmp.file('batch.db')), mode: Mode.FRESHEN });
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
});
