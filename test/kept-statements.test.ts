/**
 * The cache connection keeps its statements prepared, up to a bound, and runs them one at a time in call
 * order. A schema wide enough to need more statements than the bound, loaded concurrently, then read back
 * offline from the file, checks that evicted statements are finalized cleanly and prepared again, and that
 * nothing runs out of order (a write outside its transaction would leave marks without rows).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { defineSchema, entity, hasMany, belongsTo, Mode, openStore, sqliteOrigin } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const KINDS = 40;
const names = Array.from({ length: KINDS }, (_, i) => `T${i}`);

// Parent Ti (table ti) with children Ci (table ci): 80 entities, 40 hasMany and 40 belongsTo relations.
const defs: Record<string, ReturnType<typeof entity>> = {};
for (const n of names) {
  defs[n] = entity({ table: n.toLowerCase(), key: 'id', columns: { id: 'integer', name: 'text' }, relations: { kids: hasMany(`C${n}`, 'parent_id') } });
  defs[`C${n}`] = entity({
    table: `c${n.toLowerCase()}`, key: 'id',
    columns: { id: 'integer', parent_id: 'integer', v: 'integer' },
    relations: { parent: belongsTo(n, 'parent_id') },
  });
}
const schema = defineSchema(defs);

describe('kept statements', () => {
  const tmp = tempDir();
  after(() => tmp.remove());

  it(`${KINDS * 2} entities loaded at once, past the bound on kept statements: every row and mark, online and offline`, async () => {
    const originFile = tmp.file('origin.db');
    const origin = await openSqlite(originFile);
    for (const n of names) {
      const t = n.toLowerCase();
      await origin.exec(
        `CREATE TABLE ${t} (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE TABLE c${t} (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL, v INTEGER NOT NULL);` +
          `INSERT INTO ${t} VALUES (1, '${n}-1'), (2, '${n}-2'); INSERT INTO c${t} VALUES (1, 1, 10), (2, 1, 20), (3, 2, 30);`,
      );
    }
    await origin.close();
    const cacheFile = tmp.file('cache.db');
    const read = async (view: any) =>
      Promise.all(
        names.map(async (n) => {
          const parents = await Promise.all([view[n](1), view[n](2)]);
          const kids = await Promise.all(parents.map((p: any) => p.kids));
          const back = await Promise.all(kids.flat().map((k: any) => k.parent));
          return { n, names: parents.map((p: any) => p.name), kids: kids.map((g: any[]) => g.map((k) => k.v)), back: back.map((p: any) => p.id) };
        }),
      );
    const expected = names.map((n) => ({ n, names: [`${n}-1`, `${n}-2`], kids: [[10, 20], [30]], back: [1, 1, 2] }));
    {
      await using store = await openStore(schema, { origin: sqliteOrigin(originFile), cache: testCache(cacheFile), mode: Mode.FRESHEN });
      const distinct = new Set<string>();
      store.on('query', (e) => {
        if (e.target === 'cache') distinct.add(e.sql);
      });
      await using view = store.view();
      assert.deepEqual(await read(view), expected);
      // Again, on statements kept or evicted by now.
      await using again = store.view();
      assert.deepEqual(await read(again), expected);
      assert.deepEqual((await store.verify()).problems, []);
      assert.ok(distinct.size > 256, `more distinct statements (${distinct.size}) than a connection keeps prepared (256)`);
    }
    await using offline = await openStore(schema, { origin: null, cache: testCache(cacheFile), mode: Mode.OFFLINE });
    await using view = offline.view();
    assert.deepEqual(await read(view), expected);
    assert.equal(offline.stats.originQueries, 0);
  });
});
