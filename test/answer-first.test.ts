// Answers before cache writes (cacheWrites: 'after-answer', the default): shared while pending, flushed, failures reported.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { testCache } from './helpers/cache-driver.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { countSelects, createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** Completeness marks of `kind` in a cache file, read outside any store. */
async function marks(file: string, kind: string): Promise<number> {
  const [row] = await queryCacheFile<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM ever_loaded WHERE kind = ?', [kind]);
  return Number(row?.n);
}

describe("cacheWrites: answers before their cache write (default 'after-answer') and 'before-answer'", { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...AB_TABLES);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  for (const mode of [Mode.PREFER_CACHE, Mode.FRESHEN]) {
    it(`${mode}: lookups asked the moment an answer arrives, its write not yet committed, are answered without a second origin statement`, async () => {
      const file = tmp.file(`pending-${mode}.db`);
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode });
      await using v1 = store.view();
      await using v2 = store.view(); // made before the load: FRESHEN may share it
      const { value, selects } = await countSelects(db, async () => {
        let written = -1;
        // Asked in the same job as the answer arrives: the write was only queued.
        const second = v1.A.many([1, 2], { include: { bs: true } }).then(async ([a1]) => {
          written = Number((await queryCacheFile<{ n: number }>(file, "SELECT COUNT(*) AS n FROM ever_loaded WHERE kind = 'A.bs'"))[0]?.n);
          return { b1: await v2.A(1), b2: (await v2.A.many([2], { include: { bs: true } }))[0], a1 };
        });
        const { b1, b2, a1 } = await second;
        return { written, bs1: (await b1.bs).map((b) => b.id), bs2: (await b2!.bs).map((b) => b.id), sameRow: a1!.name === b1.name };
      });
      assert.deepEqual({ bs1: value.bs1, bs2: value.bs2, sameRow: value.sameRow }, { bs1: [1, 2, 3], bs2: [4], sameRow: true });
      assert.equal(selects, 2, `one round trip of A and A.bs for the first view, nothing for the second (marks in the file when it asked: ${value.written})`);
      await store.flush();
      assert.equal(await marks(file, 'A.bs'), 2);
      assert.deepEqual(await queryCacheFile(file, 'SELECT * FROM adbv_fetching'), []);
    });
  }

  it('a write that fails is reported (error event, stats.cacheWriteFailures), marks nothing, and the lookup goes to the origin again', async () => {
    const file = tmp.file('failing.db');
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.PREFER_CACHE });
    const errors: Error[] = [];
    store.on('error', (e) => errors.push(e));
    await using warmup = store.view();
    await warmup.A(3);
    await store.flush();
    const other = await openSqlite(file);
    await other.exec("CREATE TRIGGER refuse_b BEFORE INSERT ON b BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    try {
      await using v1 = store.view();
      const bs = await (await v1.A(1)).bs;
      assert.deepEqual(bs.map((b) => b.id), [1, 2, 3], 'the caller is answered');
      await store.flush();
      assert.equal(store.stats.cacheWriteFailures, 1);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, /refused by the test/);
      assert.equal(await marks(file, 'A.bs'), 0, 'nothing marked');
      assert.deepEqual(await queryCacheFile(file, 'SELECT COUNT(*) AS n FROM b'), [{ n: 0 }], 'no row written');
      assert.deepEqual(await queryCacheFile(file, 'SELECT * FROM adbv_fetching'), [], 'the claims were released');

      await other.exec('DROP TRIGGER refuse_b');
      await using v2 = store.view();
      const again = await countSelects(db, async () => (await (await v2.A(1)).bs).map((b) => b.id));
      assert.deepEqual(again.value, [1, 2, 3]);
      assert.equal(again.selects, 1, 'A 1 .bs went to the origin again (A 1 itself was written and is answered by the cache)');
      await store.flush();
      assert.equal(await marks(file, 'A.bs'), 1);
      assert.equal(store.stats.cacheWriteFailures, 1);
    } finally {
      await other.close();
    }
  });

  it("'before-answer': the write has committed when the lookup answers; a failing write fails the lookup", async () => {
    const file = tmp.file('before.db');
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN, cacheWrites: 'before-answer' });
    await using v1 = store.view();
    await (await v1.A(1)).bs;
    assert.equal(await marks(file, 'A'), 1, 'in the file as soon as answered, without flush()');
    assert.equal(await marks(file, 'A.bs'), 1);
    const other = await openSqlite(file);
    await other.exec("CREATE TRIGGER refuse_b BEFORE INSERT ON b BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    try {
      await using v2 = store.view();
      await assert.rejects((await v2.A(2)).bs, /refused by the test/);
      assert.equal(store.stats.cacheWriteFailures, 1);
      assert.equal(await marks(file, 'A.bs'), 1, 'A 2 .bs not marked');
    } finally {
      await other.close();
    }
    await assert.rejects(openStore(abSchema, { origin: null, cache: testCache(), cacheWrites: 'sometimes' as never }), /cacheWrites must be 'after-answer' or 'before-answer', got "sometimes"/);
  });

  it('close() waits for pending writes: a store reopened on the file answers OFFLINE what the closed one answered', async () => {
    const file = tmp.file('close.db');
    {
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      await (await view.A(2)).bs;
    }
    await using offline = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    assert.deepEqual((await (await view.A(2)).bs).map((b) => b.id), [4]);
  });
});
