import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  belongsTo, defineSchema, entity, hasMany, hasOne, IsOfflineError, Mode, mysqlOrigin, NotFoundError, openStore, OriginError, SchemaError,
} from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { AB_TABLES, abSchema } from './helpers/ab-schema.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** Asserts `fn` throws a SchemaError whose message names every one of `names`. */
function assertSchemaError(fn: () => unknown, ...names: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SchemaError, `expected a SchemaError, got ${String(error)}`);
    for (const n of names) assert.ok(error.message.includes(n), `message ${JSON.stringify(error.message)} names ${JSON.stringify(n)}`);
    return true;
  });
}

describe('bad input: schema mistakes throw SchemaError at defineSchema', () => {
  const A = (relations: object = {}) => entity({ table: 'a', key: 'id', columns: { id: 'integer', name: 'text' }, relations: relations as any });
  const B = (relations: object = {}) => entity({ table: 'b', key: 'id', columns: { id: 'integer', a_id: 'integer' }, relations: relations as any });

  it('unknown target entity', () => {
    assertSchemaError(() => defineSchema({ A: A({ bs: hasMany('Nope', 'a_id') }), B: B() } as any), 'A', 'bs', 'Nope');
    assertSchemaError(() => defineSchema({ A: A(), B: B({ a: belongsTo('Nope', 'a_id') }) } as any), 'B', 'a', 'Nope');
  });

  it('key column not among the columns', () => {
    assertSchemaError(() => defineSchema({ A: entity({ table: 'a', key: 'nope' as any, columns: { id: 'integer' }, relations: {} }) }), 'A', 'key', 'nope');
  });

  it('relation foreign key on a missing column', () => {
    assertSchemaError(() => defineSchema({ A: A({ bs: hasMany('B', 'nope') }), B: B() } as any), 'A', 'bs', 'nope');
    assertSchemaError(() => defineSchema({ A: A({ b: hasOne('B', 'nope') }), B: B() } as any), 'A', 'b', 'nope');
    assertSchemaError(() => defineSchema({ A: A(), B: B({ a: belongsTo('A', 'nope') }) } as any), 'B', 'a', 'nope');
  });

  it('entity named like a view method or property', () => {
    for (const name of ['close', 'mode', 'closed']) {
      assertSchemaError(() => defineSchema({ [name]: entity({ table: 't', key: 'id', columns: { id: 'integer' }, relations: {} }) } as any), name);
    }
  });

  it('unknown column type', () => {
    assertSchemaError(
      () => defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer', x: 'varchar' as any }, relations: {} }) }),
      'A', 'x', 'varchar',
    );
    assertSchemaError(
      () => defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer', x: 'integer??' as any }, relations: {} }) }),
      'A', 'x',
    );
  });

  it('a key column of a type keys cannot have', () => {
    assertSchemaError(() => defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'real' }, relations: {} }) }), 'A', 'id');
  });

  it('a foreign key whose type differs from the key it references', () => {
    assertSchemaError(
      () => defineSchema({
        A: A({ bs: hasMany('B', 'a_id') }),
        B: entity({ table: 'b', key: 'id', columns: { id: 'integer', a_id: 'text' }, relations: {} }),
      } as any),
      'A', 'bs', 'a_id',
    );
  });

  it('two entities on one table', () => {
    assertSchemaError(
      () => defineSchema({
        A: entity({ table: 't', key: 'id', columns: { id: 'integer' }, relations: {} }),
        B: entity({ table: 't', key: 'id', columns: { id: 'integer' }, relations: {} }),
      }),
      'B', 't',
    );
  });

  it('a correct schema is accepted (control)', () => {
    const s = defineSchema({ A: A({ bs: hasMany('B', 'a_id') }), B: B({ a: belongsTo('A', 'a_id') }) } as any);
    assert.ok(s);
  });
});

describe('bad input: keys, injection and origin failures', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(
      ...AB_TABLES,
      'CREATE TABLE k (code VARCHAR(100) PRIMARY KEY, label VARCHAR(100) NOT NULL) DEFAULT CHARSET = utf8mb4',
      "INSERT INTO k VALUES ('plain', 'p'), ('O''Brien \\\\ back', 'quoted'), ('1', 'one')",
    );
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  const kSchema = defineSchema({
    K: entity({ table: 'k', key: 'code', columns: { code: 'text', label: 'text' }, relations: {} }),
    A: entity({ table: 'a', key: 'id', columns: { id: 'integer', name: 'text' }, relations: {} }),
  });

  it('a key of the wrong type rejects with a TypeError naming the value', async () => {
    await using store = await openStore(abSchema, { origin: mysqlOrigin(db.url), mode: Mode.FRESHEN });
    await using view = store.view();
    const cases: [unknown, RegExp][] = [
      ['1', /"1"|'1'/],
      [Number.NaN, /NaN/],
      [{}, /\{\}|\[object Object\]/],
      [undefined, /undefined/],
      [1.5, /1\.5/],
      [null, /null/],
      [2n ** 60n, /1152921504606846976/],
      [Infinity, /Infinity/],
    ];
    for (const [bad, shows] of cases) {
      // Not a synchronous throw: view.A returns a promise that rejects.
      const p = (view.A as (k: unknown) => Promise<unknown>)(bad);
      await assert.rejects(p, (error: unknown) => {
        assert.ok(error instanceof TypeError, `key ${String(bad)}: expected a TypeError, got ${String(error)}`);
        assert.match(error.message, shows);
        return true;
      });
    }
    assert.equal(store.stats.originQueries, 0, 'bad keys never reach the origin');
    // A bad key fails its caller, not the other lookups of the same tick.
    const [ok, bad] = await Promise.allSettled([view.A(1), (view.A as (k: unknown) => Promise<unknown>)('x')]);
    assert.equal(ok.status, 'fulfilled');
    assert.equal(ok.status === 'fulfilled' && ok.value.name, 'a1');
    assert.equal(bad.status, 'rejected');
  });

  it('a text key holding SQL is just a key: NotFoundError, and the origin tables survive', async () => {
    const file = tmp.file('inject.db');
    const evil = ["1' OR '1'='1", "'; DROP TABLE a; --", "1); DROP TABLE k; --", '" OR ""="', 'x\\', "\\'; DROP TABLE b; --"];
    {
      await using store = await openStore(kSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
      await using view = store.view();
      for (const key of evil) {
        await assert.rejects(view.K(key), (error: unknown) => {
          assert.ok(error instanceof NotFoundError, `${key}: expected NotFoundError, got ${String(error)}`);
          return true;
        });
      }
      // Batched together too.
      const settled = await Promise.allSettled(evil.map((k) => view.K(k)));
      assert.ok(settled.every((s) => s.status === 'rejected' && s.reason instanceof NotFoundError));
      // Keys with quotes and backslashes that exist are found.
      assert.equal((await view.K("O'Brien \\ back")).label, 'quoted');
      assert.equal((await view.K('1')).label, 'one');
    }
    const [tables] = await db.admin.query('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name', [db.name]);
    assert.deepEqual((tables as { t: string }[]).map((r) => r.t), ['a', 'b', 'k']);
    const [counts] = await db.admin.query('SELECT (SELECT COUNT(*) FROM a) AS a, (SELECT COUNT(*) FROM b) AS b, (SELECT COUNT(*) FROM k) AS k');
    assert.deepEqual((counts as Record<string, number>[]).map((r) => [Number(r.a), Number(r.b), Number(r.k)]), [[3, 4, 3]]);
    // The cache recorded them absent, as keys: offline they are NotFound, and its tables survive too.
    await using offline = await openStore(kSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    for (const key of evil) await assert.rejects(view.K(key), NotFoundError);
    assert.equal((await view.K("O'Brien \\ back")).label, 'quoted');
  });

  it('an origin where nothing listens: OriginError with the driver\'s message, nothing marked complete', async () => {
    const file = tmp.file('down.db');
    {
      await using store = await openStore(abSchema, { origin: mysqlOrigin('mysql://root@127.0.0.1:1/nothing'), cache: testCache(file), mode: Mode.PREFER_CACHE });
      await using view = store.view();
      let driverMessage = '';
      await assert.rejects(view.A(1), (error: unknown) => {
        assert.ok(error instanceof OriginError, `expected OriginError, got ${String(error)}`);
        const cause = (error as { cause?: unknown }).cause;
        assert.ok(cause instanceof Error, 'cause is the driver error');
        driverMessage = cause.message;
        assert.ok(driverMessage.length > 0);
        assert.ok(error.message.includes(driverMessage), `${JSON.stringify(error.message)} includes ${JSON.stringify(driverMessage)}`);
        assert.match(error.message, /ECONNREFUSED|connect/i);
        return true;
      });
      // Not remembered: asking again goes to the origin again (and fails again).
      const before = store.stats.originQueries;
      await assert.rejects(view.A(1), OriginError);
      assert.equal(store.stats.originQueries, before + 1);
      await assert.rejects(view.B(1), OriginError);
    }
    await using offline = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
    await using view = offline.view();
    await assert.rejects(view.A(1), IsOfflineError);
    await assert.rejects(view.B(1), IsOfflineError);
  });

  it('an origin missing table b: OriginError, nothing marked complete, and fixing it needs no reopening', async () => {
    const broken = await createTestDb(...AB_TABLES.filter((s) => !/\bb\b/.test(s)));
    try {
      const file = tmp.file('missing-b.db');
      await using store = await openStore(abSchema, { origin: mysqlOrigin(broken.url), cache: testCache(file), mode: Mode.PREFER_CACHE });
      const view = store.view();
      const a1 = await view.A(1);
      assert.equal(a1.name, 'a1');
      const isMissingB = (error: unknown) => {
        assert.ok(error instanceof OriginError, `expected OriginError, got ${String(error)}`);
        const cause = (error as { cause?: unknown }).cause;
        assert.ok(cause instanceof Error);
        assert.ok(error.message.includes(cause.message), `${JSON.stringify(error.message)} includes the driver's ${JSON.stringify(cause.message)}`);
        assert.match(error.message, /doesn't exist/);
        return true;
      };
      await assert.rejects(view.B(1), isMissingB);
      await assert.rejects(async () => await a1.bs, isMissingB);
      await assert.rejects(async () => await a1.b, isMissingB);

      // Nothing about B was recorded: offline, B and A.bs are not in the cache (not "not found", not empty).
      // (A 1's answer is in the file once its write has committed: another store reads the file.)
      await store.flush();
      {
        await using offline = await openStore(abSchema, { origin: null, cache: testCache(file), mode: Mode.OFFLINE });
        await using ov = offline.view();
        await assert.rejects(ov.B(1), IsOfflineError);
        const oa1 = await ov.A(1);
        await assert.rejects(async () => await oa1.bs, IsOfflineError);
        await assert.rejects(async () => await oa1.b, IsOfflineError);
      }

      // Fix the origin; the same store and the same view now work.
      await broken.exec(...AB_TABLES.filter((s) => /\bb\b/.test(s)));
      assert.deepEqual((await a1.bs).map((b) => b.id), [1, 2, 3]);
      assert.equal((await view.B(4)).name, 'b4');
      assert.equal((await a1.b)?.id, 1);
      const fresh = store.view();
      assert.deepEqual((await (await fresh.A(2)).bs).map((b) => b.name), ['b4']);
      view.close();
    } finally {
      await broken.drop();
    }
  });
});
