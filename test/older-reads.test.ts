/**
 * An older read never overwrites a newer one. Two answers to overlapping lookups are merged in the order
 * that matters — the answer whose read began later first, the older one after it — with explicit read
 * stamps through the CacheStore API, then the file is read offline: the newer rows, links and marks
 * remain, and nothing the newer rows contradict is marked complete. The same pairs merged in read order
 * (older first) end with the newer answer too. On both cache drivers; no origin, no timing.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  defineSchema, entity, hasMany, hasOne, IsOfflineError, manyToMany, Mode, NotFoundError, openStore, sqliteCache, type MergeBatch, type Row,
  type SqliteDriver, type View,
} from 'asyncdbview';
import { queryCacheFile } from './helpers/cache-file.js';
import { tempDir } from './helpers/tmp.js';

const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

const schema = defineSchema({
  P: entity({
    table: 'p', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { cs: hasMany('C', 'p_id'), c: hasOne('C', 'p_id'), tags: manyToMany('T', { through: 'p_tag', sourceKey: 'p_id', targetKey: 't_id' }) },
  }),
  C: entity({ table: 'c', key: 'id', columns: { id: 'integer', p_id: 'integer', name: 'text' }, relations: {} }),
  T: entity({ table: 't', key: 'id', columns: { id: 'integer', name: 'text' }, relations: {} }),
});
type S = typeof schema.entities;
const P = schema.compiled.byName.get('P')!;
const C = schema.compiled.byName.get('C')!;
const T = schema.compiled.byName.get('T')!;
const rel = (name: string) => P.relations.find((r) => r.name === name)!;

const OLD = 1_000;
const NEW = 2_000;
const CS_OF = { tag: 'cs-of', sql: 'SELECT * FROM c WHERE p_id = ? ORDER BY id', params: [1] };
const QUERY = { kind: 'q:cs-of', params: '[1]', sql: CS_OF.sql };

const c = (id: number, p_id: number, name = `c${id}`): Row => ({ id, p_id, name });
const entityBatch = (loadedAt: number, keys: number[], rows: Row[]): MergeBatch => ({
  entity: C, rows, loadedAt, entityKeys: keys, absentKeys: keys.filter((k) => !rows.some((r) => r.id === k)),
});
const csBatch = (loadedAt: number, p: number, rows: Row[]): MergeBatch => ({ entity: C, rows, loadedAt, relation: { rel: rel('cs'), keys: [p] } });
const queryBatch = (loadedAt: number, rows: Row[]): MergeBatch => ({ entity: C, rows, loadedAt, query: QUERY });
const tagsBatch = (loadedAt: number, p: number, tags: number[]): MergeBatch => ({
  entity: T, rows: tags.map((id) => ({ id, name: `t${id}`, $src: p })), loadedAt, relation: { rel: rel('tags'), keys: [p] },
});

/** What an offline view answers for each lookup the pairs touch. */
async function answers(view: View<S>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const take = async (name: string, get: () => Promise<unknown>) => {
    try {
      out[name] = await get();
    } catch (error) {
      if (error instanceof IsOfflineError) out[name] = 'IsOfflineError';
      else if (error instanceof NotFoundError) out[name] = 'NotFoundError';
      else throw error;
    }
  };
  for (const id of [10, 20, 30]) await take(`C${id}`, async () => { const r = await view.C(id); return [r.p_id, r.name]; });
  const p1 = await view.P(1);
  await take('P1.cs', async () => (await p1.cs).map((x) => x.id));
  await take('P1.c', async () => (await p1.c)?.id ?? null);
  await take('P1.tags', async () => (await p1.tags).map((x) => x.id));
  await take('cs-of 1', async () => (await view.query('C', CS_OF)).map((x) => [x.id, x.name]));
  return out;
}

/**
 * Pairs of answers whose reads overlapped: `later` began after `earlier`. `expect` is what offline reads
 * give once both are merged, whichever order they land in (lookups not listed are not compared).
 */
const PAIRS: { name: string; earlier: MergeBatch[]; later: MergeBatch[]; expect: Record<string, unknown> }[] = [
  {
    name: 'a row read twice: the later version stays',
    earlier: [entityBatch(OLD, [10], [c(10, 1, 'old')])],
    later: [entityBatch(NEW, [10], [c(10, 1, 'new')])],
    expect: { C10: [1, 'new'] },
  },
  {
    name: 'a group read twice: the later group stays, the earlier member is not brought back',
    earlier: [csBatch(OLD, 1, [c(10, 1)])],
    later: [csBatch(NEW, 1, [c(30, 1)])],
    expect: { 'P1.cs': [30], C10: 'IsOfflineError', C30: [1, 'c30'] },
  },
  {
    name: 'absent in the later read, present in the earlier one: absent',
    earlier: [entityBatch(OLD, [20], [c(20, 2)])],
    later: [entityBatch(NEW, [20], [])],
    expect: { C20: 'NotFoundError' },
  },
  {
    name: 'present in the later read, absent in the earlier one: present',
    earlier: [entityBatch(OLD, [20], [])],
    later: [entityBatch(NEW, [20], [c(20, 2)])],
    expect: { C20: [2, 'c20'] },
  },
  {
    name: 'a member that moved away in a later read: the earlier group is not marked',
    earlier: [csBatch(OLD, 1, [c(10, 1)])],
    later: [entityBatch(NEW, [10], [c(10, 2)])],
    expect: { 'P1.cs': 'IsOfflineError', 'P1.c': 'IsOfflineError', C10: [2, 'c10'] },
  },
  {
    name: 'a member that joined in a later read, missing from the earlier group: not marked, the member stays',
    earlier: [csBatch(OLD, 1, [c(10, 1)])],
    later: [entityBatch(NEW, [30], [c(30, 1)])],
    expect: { 'P1.cs': 'IsOfflineError', C30: [1, 'c30'], C10: [1, 'c10'] },
  },
  {
    name: 'a custom query whose row changed in a later read: not marked',
    earlier: [queryBatch(OLD, [c(10, 1, 'old')])],
    later: [entityBatch(NEW, [10], [c(10, 1, 'new')])],
    expect: { 'cs-of 1': 'IsOfflineError', C10: [1, 'new'] },
  },
  {
    name: 'a custom query answered twice: the later answer stays',
    earlier: [queryBatch(OLD, [c(10, 1)])],
    later: [queryBatch(NEW, [c(30, 1)])],
    expect: { 'cs-of 1': [[30, 'c30']] },
  },
  {
    name: 'manyToMany links read twice: the later links stay',
    earlier: [tagsBatch(OLD, 1, [1])],
    later: [tagsBatch(NEW, 1, [2])],
    expect: { 'P1.tags': [2] },
  },
  {
    name: 'a tree (several levels, one stamp) read before a later group: the later group stays, the member it lacks is not answered',
    earlier: [entityBatch(OLD, [10, 20], [c(10, 1), c(20, 1)]), csBatch(OLD, 1, [c(10, 1), c(20, 1)]), tagsBatch(OLD, 1, [1, 2])],
    later: [csBatch(NEW, 1, [c(20, 1), c(30, 1)]), tagsBatch(NEW, 1, [2])],
    expect: { 'P1.cs': [20, 30], 'P1.tags': [2], C10: 'IsOfflineError', C20: [1, 'c20'] },
  },
];

describe('an older read never overwrites a newer one', () => {
  const tmp = tempDir();
  let compared = 0;
  after(() => {
    console.log(`# older reads: ${PAIRS.length} overlapping pairs × 4 orders (2 of them queued as one write) × ${DRIVERS.length} drivers, ${compared} offline answers compared`);
    tmp.remove();
  });

  it('a schema column named like the read stamp is refused with a SchemaError naming it', async () => {
    const clash = defineSchema({ X: entity({ table: 'x', key: 'id', columns: { id: 'integer', _adbv_read_at: 'integer' }, relations: {} }) });
    await assert.rejects(
      openStore(clash, { origin: null, cache: sqliteCache(tmp.file('clash.db')) }),
      (e: Error) => e.name === 'SchemaError' && e.message.includes('X.columns._adbv_read_at'),
    );
  });

  for (const driver of DRIVERS) {
    for (const order of ['later merged first', 'merged in read order', 'later queued first, one write', 'queued in read order, one write'] as const) {
      it(`${driver}, ${order}: the later read's rows, links and marks remain`, async () => {
        for (const [i, pair] of PAIRS.entries()) {
          const file = tmp.file(`${driver}-${order.replace(/\W+/g, '-')}-${i}.db`);
          const cache = sqliteCache(file, { driver });
          await using store = await openStore(schema, { origin: null, cache, mode: Mode.OFFLINE });
          await cache.merge({ entity: P, rows: [{ id: 1, name: 'p1' }, { id: 2, name: 'p2' }], loadedAt: 1, entityKeys: [1, 2] });
          const [first, second] = order.startsWith('later') ? [pair.later, pair.earlier] : [pair.earlier, pair.later];
          if (order.endsWith('one write')) {
            // Queued in one tick: answers of one entity share one write (alone on the file: the default driver).
            const before = cache.statementCount;
            await Promise.all([cache.merge(first), cache.merge(second)]);
            if (i === 0 && driver === 'sqlite3') {
              // BEGIN, one upsert of both rows (and, the later row first, one look at the row kept out), one mark statement, COMMIT.
              assert.ok(cache.statementCount - before <= 5, `${pair.name}: two answers, one write (${cache.statementCount - before} statements)`);
            }
          } else {
            await cache.merge(first);
            await cache.merge(second);
          }
          await using view = store.view();
          const got = await answers(view);
          for (const [lookup, expected] of Object.entries(pair.expect)) {
            assert.deepEqual(got[lookup], expected, `${pair.name}: ${lookup} (all: ${JSON.stringify(got)})`);
            compared++;
          }
          assert.deepEqual(await queryCacheFile(file, 'SELECT kind FROM ever_loaded WHERE loaded_at > ? AND loaded_at < ?', [1, OLD]), [], 'no mark with another stamp');
        }
      });
    }
  }
});
