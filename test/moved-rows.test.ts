/**
 * A row that changes under a mark takes the mark with it. The origin moves a child to another parent,
 * adds one, deletes one, moves a link; then ONE lookup is freshened, by every kind of merge in turn
 * (entity, hasMany, hasOne, tree, manyToMany from either side, custom queries). Offline afterwards, every
 * lookup answers IsOfflineError or exactly what the origin answered at one load (before or after the
 * change), never a mix; the lookup freshened answers the state after. On both cache drivers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore, sqliteCache, type SqliteDriver, type View } from 'asyncdbview';
import { movingSchema } from './helpers/moving.js';
import { orErrorName } from './helpers/part.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const DRIVERS: readonly SqliteDriver[] = ['sqlite3', 'better-sqlite3'];

// The schema the multi-process variant steps through too (test/helpers/moving.ts).
const schema = movingSchema;
type S = typeof schema.entities;

const CS_OF = { tag: 'cs-of', sql: 'SELECT * FROM c WHERE p_id = ? ORDER BY id' };
const C_BY_ID = { tag: 'c-by-id', sql: 'SELECT * FROM c WHERE id = ?' };

const INITIAL = [
  'DELETE FROM p', 'DELETE FROM c', 'DELETE FROM t', 'DELETE FROM p_tag',
  "INSERT INTO p VALUES (1, 'p1'), (2, 'p2')",
  "INSERT INTO c VALUES (10, 1, 'c10'), (20, 2, 'c20')",
  "INSERT INTO t VALUES (1, 't1'), (2, 't2')",
  'INSERT INTO p_tag VALUES (1, 1), (2, 2)',
];
/** c10 moves from P1 to P2, c30 is added under P1, c20 is deleted; the link P1–T1 becomes P2–T1. */
const CHANGES = [
  'UPDATE c SET p_id = 2 WHERE id = 10',
  "INSERT INTO c VALUES (30, 1, 'c30')",
  'DELETE FROM c WHERE id = 20',
  'DELETE FROM p_tag WHERE p_id = 1 AND t_id = 1',
  'INSERT INTO p_tag VALUES (2, 1)',
];

type Answer = unknown;
/** Every lookup the test compares, by name: what a view answers for it (an error's class name for errors). */
const LOOKUPS: Record<string, (view: View<S>) => Promise<Answer>> = {
  'P1.cs': async (v) => (await (await v.P(1)).cs).map((c) => c.id),
  'P2.cs': async (v) => (await (await v.P(2)).cs).map((c) => c.id),
  'P1.c': async (v) => (await (await v.P(1)).c)?.id ?? null,
  'P2.c': async (v) => (await (await v.P(2)).c)?.id ?? null,
  'P1.tags': async (v) => (await (await v.P(1)).tags).map((t) => t.id),
  'P2.tags': async (v) => (await (await v.P(2)).tags).map((t) => t.id),
  'T1.ps': async (v) => (await (await v.T(1)).ps).map((p) => p.id),
  'T2.ps': async (v) => (await (await v.T(2)).ps).map((p) => p.id),
  'cs-of 1': async (v) => (await v.query('C', { ...CS_OF, params: [1] })).map((c) => [c.id, c.p_id]),
  'cs-of 2': async (v) => (await v.query('C', { ...CS_OF, params: [2] })).map((c) => [c.id, c.p_id]),
  'c-by-id 10': async (v) => (await v.query('C', { ...C_BY_ID, params: [10] })).map((c) => [c.id, c.p_id]),
  'C10': async (v) => [(await v.C(10)).id, (await v.C(10)).p_id],
  'C20': async (v) => [(await v.C(20)).id, (await v.C(20)).p_id],
};

function answer(view: View<S>, name: string): Promise<Answer> {
  return orErrorName(() => (LOOKUPS[name] as (v: View<S>) => Promise<Answer>)(view));
}

/** The single lookups freshened after the change, each in a run of its own: every kind of merge. */
const FRESHENED: Record<string, (view: View<S>) => Promise<unknown>> = {
  'entity C 10': (v) => v.C(10),
  'entity C 30': (v) => v.C(30),
  'entity C 20 (gone)': (v) => v.C(20).catch((e: unknown) => e),
  'hasMany P2.cs': async (v) => (await v.P(2)).cs,
  'hasMany P1.cs': async (v) => (await v.P(1)).cs,
  'hasOne P2.c': async (v) => (await v.P(2)).c,
  'tree P2 { cs }': (v) => v.P.many([2], { include: { cs: true } }),
  'manyToMany P2.tags': async (v) => (await v.P(2)).tags,
  'manyToMany P1.tags': async (v) => (await v.P(1)).tags,
  'manyToMany T1.ps': async (v) => (await v.T(1)).ps,
  'query cs-of 2': (v) => v.query('C', { ...CS_OF, params: [2] }),
  'query c-by-id 10': (v) => v.query('C', { ...C_BY_ID, params: [10] }),
};
/** The lookup each freshened run answers complete afterwards: offline it must give the state after. */
const FRESH_LOOKUP: Record<string, string> = {
  'entity C 10': 'C10', 'hasMany P2.cs': 'P2.cs', 'hasMany P1.cs': 'P1.cs', 'hasOne P2.c': 'P2.c', 'tree P2 { cs }': 'P2.cs',
  'manyToMany P2.tags': 'P2.tags', 'manyToMany P1.tags': 'P1.tags', 'manyToMany T1.ps': 'T1.ps',
  'query cs-of 2': 'cs-of 2', 'query c-by-id 10': 'c-by-id 10', 'entity C 20 (gone)': 'C20',
};

describe('a row that changes under a mark takes the mark with it', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  let compared = 0;
  let dropped = 0;
  before(async () => {
    db = await createTestDb(
      'CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)',
      'CREATE TABLE c (id INT PRIMARY KEY, p_id INT NOT NULL, name VARCHAR(20) NOT NULL, KEY (p_id))',
      'CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)',
      'CREATE TABLE p_tag (p_id INT NOT NULL, t_id INT NOT NULL, PRIMARY KEY (p_id, t_id), KEY (t_id))',
    );
  });
  after(async () => {
    console.log(`# moved rows: ${Object.keys(FRESHENED).length} kinds of merge × ${DRIVERS.length} drivers after 5 origin changes; ${compared} offline answers compared, ${dropped} of them marks dropped`);
    await db.drop();
    tmp.remove();
  });

  /** Every lookup's answer from the origin as it is now, through a FRESHEN view on a throwaway cache. */
  async function truth(): Promise<Record<string, Answer>> {
    await using store = await openStore(schema, { origin: mysqlOrigin(db.url), mode: Mode.FRESHEN });
    const out: Record<string, Answer> = {};
    for (const name of Object.keys(LOOKUPS)) {
      await using view = store.view();
      out[name] = await answer(view, name);
    }
    return out;
  }

  for (const driver of DRIVERS) {
    it(`${driver}: after any one merge of a changed row, offline answers are a state the origin had, never a mix`, async () => {
      for (const [run, freshen] of Object.entries(FRESHENED)) {
        await db.exec(...INITIAL);
        const before = await truth();
        assert.deepEqual(before['P2.cs'], [20]);
        const file = tmp.file(`${driver}-${run.replace(/\W+/g, '-')}.db`);
        {
          await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.PREFER_CACHE });
          for (const name of Object.keys(LOOKUPS)) {
            await using view = store.view();
            assert.deepEqual(await answer(view, name), before[name], `${run}: online ${name}`);
          }
        }
        await db.exec(...CHANGES);
        const after = await truth();
        assert.deepEqual([after['P1.cs'], after['P2.cs']], [[30], [10]]);
        {
          await using store = await openStore(schema, { origin: mysqlOrigin(db.url), cache: sqliteCache(file, { driver }), mode: Mode.FRESHEN });
          await using view = store.view();
          await freshen(view);
        }
        await using store = await openStore(schema, { origin: null, cache: sqliteCache(file, { driver }), mode: Mode.OFFLINE });
        for (const name of Object.keys(LOOKUPS)) {
          await using view = store.view();
          const got = await answer(view, name);
          compared++;
          if (got === 'IsOfflineError') dropped++;
          if (FRESH_LOOKUP[run] === name) {
            assert.deepEqual(got, after[name], `${run}: offline ${name}, the lookup just freshened, is the state after`);
            continue;
          }
          const allowed = ['IsOfflineError', before[name], after[name]];
          assert.ok(
            allowed.some((a) => JSON.stringify(a) === JSON.stringify(got)),
            `${run}: offline ${name} answered ${JSON.stringify(got)}; the origin had ${JSON.stringify(before[name])} then ${JSON.stringify(after[name])}`,
          );
        }
      }
    });
  }
});
