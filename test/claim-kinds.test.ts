/**
 * Fetch claims between processes use the completeness marks' vocabulary: an entity name, a relation id,
 * `q:tag`. Claims are taken, refused to a second process, released by the merge of the answer (and by
 * release), and claims of the former `e:`/`r:` vocabulary are cleared when a cache opens.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Mode, openStore } from 'asyncdbview';
import { abSchema } from './helpers/ab-schema.js';
import { queryCacheFile } from './helpers/cache-file.js';
import { testCache } from './helpers/cache-driver.js';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';

const claims = (file: string) => queryCacheFile<{ kind: string; key: unknown }>(file, 'SELECT kind, key FROM adbv_fetching ORDER BY kind, key');

describe('claims are spelled as completeness marks', () => {
  const tmp = tempDir();
  after(() => tmp.remove());

  it('A, A.bs and q:tag claims: taken once, refused to another process, released by merge and release', async () => {
    const file = tmp.file('claims.db');
    const first = testCache(file);
    const second = testCache(file);
    await using s1 = await openStore(abSchema, { origin: null, cache: first, mode: Mode.OFFLINE });
    await using s2 = await openStore(abSchema, { origin: null, cache: second, mode: Mode.OFFLINE });
    assert.ok(s1 && s2);
    assert.deepEqual(await first.claim('A', [1, 2], 0), [1, 2]);
    assert.deepEqual(await first.claim('A.bs', [1], 0), [1]);
    assert.deepEqual(await first.claim('q:by-name', ['["x"]'], 0), ['["x"]']);
    assert.deepEqual(await claims(file), [
      { kind: 'A', key: 1 }, { kind: 'A', key: 2 }, { kind: 'A.bs', key: 1 }, { kind: 'q:by-name', key: '["x"]' },
    ]);
    assert.deepEqual(await second.claim('A', [1, 2, 3], 0), [3], 'the other process gets only the key nobody fetches');
    assert.deepEqual(await second.claim('A.bs', [1], 0), []);
    assert.deepEqual(await second.claim('q:by-name', ['["x"]'], 0), []);

    const A = abSchema.compiled.byName.get('A')!;
    const B = abSchema.compiled.byName.get('B')!;
    await first.merge({ entity: A, rows: [{ id: 1, name: 'a1' }], loadedAt: Date.now(), entityKeys: [1, 2], absentKeys: [2] });
    await first.merge({ entity: B, rows: [], loadedAt: Date.now(), relation: { rel: A.relations.find((r) => r.name === 'bs')!, keys: [1] } });
    await first.release('q:by-name', ['["x"]']);
    assert.deepEqual(await claims(file), [{ kind: 'A', key: 3 }], "the merges released the first process's claims; the second's stays");
    await second.release('A', [3]);
    assert.deepEqual(await claims(file), []);
    // Marked complete since the asking began: not claimed, read back instead.
    assert.deepEqual(await second.claim('A', [1, 2], Date.now() - 60_000), []);
  });

  it('an unknown kind is refused with a TypeError naming it', async () => {
    const file = tmp.file('unknown.db');
    const cache = testCache(file);
    await using store = await openStore(abSchema, { origin: null, cache, mode: Mode.OFFLINE });
    assert.ok(store);
    for (const kind of ['e:A', 'r:A.bs', 'C', 'A.cs']) {
      await assert.rejects(cache.claim(kind, [1], 0), (e: Error) => e instanceof TypeError && e.message.includes(JSON.stringify(kind)), kind);
    }
  });

  it('claims of the former e:/r: vocabulary are cleared when a cache opens', async () => {
    const file = tmp.file('old.db');
    {
      await using _store = await openStore(abSchema, { origin: null, cache: testCache(file) });
    }
    const f = await openSqlite(file);
    const until = Date.now() + 60_000;
    await f.run("INSERT INTO adbv_fetching VALUES ('e:A', 1, 'old', ?), ('r:A.bs', 1, 'old', ?), ('A', 2, 'other', ?)", [until, until, until]);
    await f.close();
    {
      await using _store = await openStore(abSchema, { origin: null, cache: testCache(file) });
    }
    assert.deepEqual(await claims(file), [{ kind: 'A', key: 2 }]);
  });
});
