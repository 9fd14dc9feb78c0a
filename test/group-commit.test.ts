// Answers' cache writes share commits while a store is alone (issue 16): lookups one after another cost one upsert and one mark together, committed on flush, close or the delay; a caller that waits never waits for company.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore, sqliteCache } from 'asyncdbview';
import { abSchema } from './helpers/ab-schema.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** Far longer than the test: every commit below comes from flush, close or a caller waiting, never from the clock. */
const NEVER = 60_000;
const N = 40;

describe('group commit while alone (issue 16)', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    const values = Array.from({ length: N }, (_, i) => `(${i + 1}, 'a${i + 1}')`).join(', ');
    db = await createTestDb('CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)', 'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, a_id INT NOT NULL)', `INSERT INTO a VALUES ${values}`);
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('lookups one after another: one upsert and one mark for all of them, committed by flush, every answer then offline', async () => {
    const file = tmp.file('group.db');
    const store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { commitDelayMs: NEVER }), mode: Mode.FRESHEN });
    const sql: string[] = [];
    store.on('query', (e) => {
      if (e.target === 'cache') sql.push(e.sql);
    });
    const view = store.view();
    for (let id = 1; id <= N; id++) assert.equal((await view.A(id)).name, `a${id}`);
    // The view's first lookup reads the local-change version and the local changes once: reads only.
    const writes = sql.splice(0).filter((s) => !s.startsWith('SELECT'));
    assert.equal(writes.length, 0, `no cache write on the lookups' path: it waits for company (${writes.join('; ')})`);
    assert.deepEqual(await queryCacheFile(file, "SELECT count(*) AS n FROM ever_loaded WHERE kind = 'A'"), [{ n: 0 }], 'nothing committed yet');
    await store.flush();
    assert.deepEqual(sql.map((s) => s.split(' ').slice(0, 3).join(' ')), ['BEGIN IMMEDIATE', 'INSERT INTO "a"', 'INSERT INTO ever_loaded', 'COMMIT']);
    assert.deepEqual(await queryCacheFile(file, "SELECT count(*) AS n FROM ever_loaded WHERE kind = 'A'"), [{ n: N }]);
    await store.close();
    await using offline = await openStore(abSchema, { origin: null, cache: sqliteCache(file), mode: Mode.OFFLINE });
    await using v = offline.view();
    for (let id = 1; id <= N; id++) assert.equal((await v.A(id)).name, `a${id}`);
    assert.equal((await offline.verify()).ok, true);
  });

  it('close commits what waits; an in-memory cache waits too', async () => {
    const file = tmp.file('close.db');
    const store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { commitDelayMs: NEVER }), mode: Mode.FRESHEN });
    const view = store.view();
    for (let id = 1; id <= 5; id++) await view.A(id);
    await store.close();
    assert.deepEqual(await queryCacheFile(file, "SELECT count(*) AS n FROM ever_loaded WHERE kind = 'A'"), [{ n: 5 }]);

    await using memory = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: sqliteCache(':memory:', { commitDelayMs: NEVER }), mode: Mode.FRESHEN });
    let statements = 0;
    memory.on('query', (e) => {
      if (e.target === 'cache' && !e.sql.startsWith('SELECT')) statements++;
    });
    const mv = memory.view();
    for (let id = 1; id <= 5; id++) await mv.A(id);
    assert.equal(statements, 0, 'no cache write yet');
    await memory.flush();
    assert.equal(statements, 4, 'BEGIN, one upsert, one mark, COMMIT');
    await using later = memory.view({ mode: Mode.OFFLINE });
    assert.equal((await later.A(5)).name, 'a5');
  });

  it("cacheWrites: 'before-answer' never waits for company (the answer would wait the whole delay)", { timeout: 20_000 }, async () => {
    const file = tmp.file('before.db');
    await using store = await openStore(abSchema, {
      origin: mysqlOrigin(db.url), cache: sqliteCache(file, { commitDelayMs: NEVER }), mode: Mode.FRESHEN, cacheWrites: 'before-answer',
    });
    const view = store.view();
    assert.equal((await view.A(1)).name, 'a1');
    assert.deepEqual(await queryCacheFile(file, "SELECT key FROM ever_loaded WHERE kind = 'A'"), [{ key: 1 }], 'committed before the answer');
  });

  it('a bad delay is refused, naming the option and the value', () => {
    for (const bad of [-1, Number.NaN, 60_001, '5' as unknown as number]) {
      assert.throws(() => sqliteCache(tmp.file('bad.db'), { commitDelayMs: bad }), (e: Error) => e instanceof TypeError && /commitDelayMs/.test(e.message) && e.message.includes(JSON.stringify(bad)));
    }
  });
  it('answers shared in flight while their write waits show local changes, in include trees too; a view of the origin sees the origin', async () => {
    await db.exec("INSERT INTO b VALUES (1, 'b1', 1), (2, 'b2', 1), (3, 'b3', 2)");
    try {
      const file = tmp.file('shared-local.db');
      await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { commitDelayMs: NEVER }), mode: Mode.FRESHEN });
      {
        await using view = store.view();
        await view.B.put({ id: 9, name: 'b9', a_id: 1 });
        await view.B.patch(1, { name: 'b1*' });
        await view.B.remove(2);
      }
      // The origin's answers for A 1, A 2 and their bs: their cache write waits, so they are shared in flight.
      {
        await using view = store.view();
        const as = await view.A.many([1, 2]);
        assert.deepEqual(await Promise.all(as.map(async (a) => (await a.bs).map((b) => b.name))), [['b1*', 'b9'], ['b3']]);
      }
      assert.deepEqual(await queryCacheFile(file, "SELECT count(*) AS n FROM ever_loaded WHERE kind = 'A.bs'"), [{ n: 0 }], 'the write still waits');
      for (const strategy of ['tree', 'levels'] as const) {
        await using local = store.view({ mode: Mode.PREFER_CACHE });
        const [a1] = await local.A.many([1], { include: { bs: { a: true } }, strategy });
        assert.deepEqual((await a1!.bs).map((b) => b.name), ['b1*', 'b9'], `${strategy}: the local changes over the shared answer`);
        await using origin = store.view({ mode: Mode.PREFER_CACHE, local: false });
        const [o1] = await origin.A.many([1], { include: { bs: true }, strategy });
        assert.deepEqual((await o1!.bs).map((b) => b.name), ['b1', 'b2'], `${strategy}: the origin's rows for a view of the origin`);
      }
      await store.flush();
      // Once written, the same from the file.
      await using after = store.view({ mode: Mode.PREFER_CACHE });
      const [a1] = await after.A.many([1], { include: { bs: true } });
      assert.deepEqual((await a1!.bs).map((b) => b.name), ['b1*', 'b9']);
      await using originAfter = store.view({ mode: Mode.PREFER_CACHE, local: false });
      const [o1] = await originAfter.A.many([1], { include: { bs: true } });
      assert.deepEqual((await o1!.bs).map((b) => b.name), ['b1', 'b2']);
    } finally {
      await db.exec('DELETE FROM b');
    }
  });
});
