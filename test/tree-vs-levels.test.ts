/**
 * An include tree loaded in one origin round trip (strategy 'tree') must leave exactly what loading it level
 * by level (strategy 'levels') leaves: the same answers (rows, order, types, empty relations, one object per
 * row) and the same cache file (every entity and join table, every completeness mark). Each test runs one
 * scenario twice on the same origin data, once per strategy, each with its own cache file, and compares.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { Mode, mysqlOrigin, NotFoundError, openStore } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { AUTHOR_KEYS, AUTHOR_TREE, BIG, dumpCache, REGION_KEYS, REGION_TREE, snapshot, WIDE_TABLES, wideSchema } from './helpers/wide.js';

const skip = await mysqlSkipReason();
const STRATEGIES = ['tree', 'levels'] as const;
type Strategy = (typeof STRATEGIES)[number];
const regionKeys = () => REGION_KEYS.map((k) => [...k]) as never[];

describe('tree and levels strategies leave the same truth', { skip }, () => {
  let db: TestDb;
  let n = 0;
  const tmp = tempDir();
  beforeEach(async () => {
    db = await createTestDb(...WIDE_TABLES);
  });
  afterEach(async () => {
    await db.drop();
  });
  after(() => tmp.remove());

  const open = (file: string, mode: Mode) => openStore(wideSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode });

  /** Loads both trees in one view of a `mode` store on `file` with `strategy`; what the view answered and what the file holds. */
  async function load(file: string, mode: Mode, strategy: Strategy, before?: (view: any) => Promise<void>) {
    await using store = await open(file, mode);
    await using view = store.view();
    await before?.(view);
    const authors = await view.Author.many([...AUTHOR_KEYS], { include: AUTHOR_TREE, strategy });
    const regions = await view.Region.many(regionKeys(), { include: REGION_TREE, strategy });
    const trips = store.stats.originRoundTrips;
    const answers = { authors: await snapshot('Author', authors, AUTHOR_TREE), regions: await snapshot('Region', regions, REGION_TREE) };
    assert.equal(store.stats.originRoundTrips, trips, `${strategy}: reading the preloaded trees sends nothing`);
    const a1 = authors[0] as any;
    const p10 = (await a1.posts).find((p: any) => p.id === 10);
    const identity = {
      // The same row reached along different paths is the same object.
      postAuthorIsRoot: p10 === undefined ? undefined : (await p10.author) === a1,
      tagPostsHoldPost: p10 === undefined ? undefined : (await Promise.all((await p10.tags).map(async (t: any) => (await t.posts).includes(p10)))),
      latestIsAPost: (await a1.latest) === null || (await a1.posts).includes(await a1.latest),
    };
    return { answers, identity, rows: (await dumpCache(file)) as any };
  }

  async function both(prepare: (file: string) => Promise<void>, mode: Mode, before?: (view: any) => Promise<void>) {
    const out = {} as Record<Strategy, Awaited<ReturnType<typeof load>>>;
    for (const strategy of STRATEGIES) {
      const file = tmp.file(`tvl-${++n}-${strategy}.db`);
      await prepare(file);
      out[strategy] = await load(file, mode, strategy, before);
    }
    return out;
  }

  it('FRESHEN on an empty cache: same answers, order, types, empty relations, identity and cache (manyToMany, composite keys)', async () => {
    const { tree, levels } = await both(async () => undefined, Mode.FRESHEN);
    assert.deepEqual(tree.answers, levels.answers);
    assert.deepEqual(tree.identity, levels.identity);
    assert.deepEqual(tree.rows, levels.rows);

    // And what they agree on is the origin's truth, not a shared mistake.
    const [ann, bob, cy] = tree.answers.authors as any[];
    assert.deepEqual(ann.posts.map((p: any) => p.title), ['Alpha', 'alpha', 'beta'], 'ordered by title, code point order');
    assert.equal(ann.latest.id, 11);
    assert.deepEqual(cy.posts, [], 'an author without posts: an empty relation');
    assert.equal(cy.latest, null, 'hasOne without a row: null');
    const p10 = ann.posts[2];
    assert.deepEqual(p10.comments.map((c: any) => c.body), ['B', 'a', 'b', 'é']);
    assert.deepEqual(p10.comments.map((c: any) => c.user?.id ?? null), [null, 2n, BIG, 2n]);
    assert.equal(typeof p10.views, 'bigint');
    assert.equal(p10.views, BIG);
    assert.ok(p10.published instanceof Date && p10.published.getTime() === Date.UTC(2024, 2, 1, 10, 0, 0, 125));
    assert.equal(p10.score, '12.50');
    assert.equal(p10.draft, false);
    assert.deepEqual(p10.meta, { a: [1, 2], b: 'x' });
    assert.deepEqual(p10.cover, Buffer.from([0, 255, 16]));
    assert.equal(p10.rating, 0.1);
    assert.deepEqual(p10.tags.map((t: any) => t.label), ['red', 'blue'], 'manyToMany ordered by the target key');
    assert.deepEqual(p10.tags[0].posts.map((p: any) => p.id), [10, 11, 40]);
    assert.equal(p10.tags[0].posts[0]['#'], p10['#'], 'the same post object, reached through its tag');
    assert.deepEqual(ann.posts[0].comments, [], 'a post without comments: an empty relation');
    assert.deepEqual(bob.posts[0].comments.map((c: any) => c.user?.name ?? null), ['three', null]);
    assert.deepEqual(tree.identity, { postAuthorIsRoot: true, tagPostsHoldPost: [true, true], latestIsAPost: true });

    const [idf, paca, berlin, lazio] = tree.answers.regions as any[];
    assert.deepEqual(idf.cities.map((c: any) => [c.name, c.mayor?.name ?? null]), [['Paris', 'two']]);
    assert.deepEqual(paca.cities.map((c: any) => [c.name, c.mayor?.name ?? null]), [['Marseille', 'big'], ['Nice', null]]);
    assert.equal(paca.cities[0].region['#'], paca['#'], 'a composite belongsTo back to the same region object');
    assert.deepEqual(berlin.cities.map((c: any) => c.code), ['BER']);
    assert.deepEqual(lazio.cities, []);
    assert.deepEqual(paca.cities[0].mayor.comments.map((c: any) => c.id), [100, 120]);

    // The cache holds every level complete, marks for empty relations included.
    assert.deepEqual(tree.rows.ever_loaded['Author.posts'], [1, 2, 3, 4, 5, 6].map((k) => `integer:${k}`));
    assert.deepEqual(tree.rows.ever_loaded['Post.comments'], [10, 11, 12, 20, 40, 41, 50, 60].map((k) => `integer:${k}`));
    assert.ok(tree.rows.ever_loaded.User.includes(`text:'${BIG}'`), 'the bigint key, exact (as its decimal text, as the table stores it)');
    assert.deepEqual(tree.rows.ever_loaded['Region.cities'].length, 4);
    assert.ok(tree.rows.ever_loaded['Tag.posts'] && tree.rows.ever_loaded['User.comments'] && tree.rows.ever_loaded['Post.tags']);
  });

  it('FRESHEN after the origin changed: the same corrections (rows removed, moved, changed; relations emptied; links dropped)', async () => {
    const warm = async (file: string) => {
      await load(file, Mode.FRESHEN, 'levels');
    };
    // Both files first hold the same old truth; the origin changes; each strategy then freshens its file.
    const files: Record<Strategy, string> = { tree: tmp.file(`tvl-${++n}-tree.db`), levels: tmp.file(`tvl-${++n}-levels.db`) };
    for (const s of STRATEGIES) await warm(files[s]);
    await db.exec(
      'DELETE FROM comment WHERE id = 100',
      'UPDATE post SET author_id = 2 WHERE id = 12',
      "UPDATE post SET title = 'Zeta', views = 9007199254740995, draft = 0, meta = NULL WHERE id = 11",
      "UPDATE post SET published = '2023-01-01 00:00:00' WHERE id = 10",
      'DELETE FROM comment WHERE post_id = 20',
      'DELETE FROM post_tag WHERE post_id = 10 AND tag_id = 1',
      'INSERT INTO post_tag VALUES (41, 3)',
      "UPDATE usr SET name = 'BIG' WHERE id = 9007199254740993",
      "UPDATE city SET mayor_id = NULL WHERE code = 'PAR'",
      "DELETE FROM city WHERE code = 'NCE'",
      "UPDATE city SET region_code = 93 WHERE code = 'XXX'",
      'DELETE FROM post WHERE id = 60',
    );
    const tree = await load(files.tree, Mode.FRESHEN, 'tree');
    const levels = await load(files.levels, Mode.FRESHEN, 'levels');
    assert.deepEqual(tree.answers, levels.answers);
    assert.deepEqual(tree.identity, levels.identity);
    assert.deepEqual(tree.rows, levels.rows);

    const [ann, bob, , di, , flo] = tree.answers.authors as any[];
    assert.deepEqual(ann.posts.map((p: any) => p.title), ['Zeta', 'beta']);
    assert.equal(ann.latest.id, 10);
    assert.deepEqual(bob.posts.map((p: any) => p.id), [12, 20], 'the moved post is under its new author');
    assert.deepEqual(flo.posts, [], 'a relation emptied at the origin');
    assert.deepEqual(ann.posts[1].comments.map((c: any) => c.id), [101, 102, 103]);
    assert.deepEqual(ann.posts[1].tags.map((t: any) => t.id), [2]);
    assert.deepEqual(di.posts[1].tags.map((t: any) => t.label), ['green']);
    assert.equal(ann.posts[0].views, 9007199254740995n);
    assert.deepEqual(bob.posts[1].comments, []);
    const [, paca] = tree.answers.regions as any[];
    assert.deepEqual(paca.cities.map((c: any) => c.name), ['Marseille', 'Nowhere']);

    // Offline, each file answers the new truth alone.
    for (const s of STRATEGIES) {
      await using off = await openStore(wideSchema, { origin: null, cache: testCache(files[s]), mode: Mode.OFFLINE });
      const v = off.view();
      const [a1, a2, a6] = await v.Author.many([1, 2, 6], { include: { posts: { comments: true, tags: true } } });
      assert.deepEqual((await a1!.posts).map((p) => p.id), [11, 10], `${s}: post 12 left author 1 in the cache`);
      assert.deepEqual((await a2!.posts).map((p) => p.id), [12, 20], s);
      assert.deepEqual(await a6!.posts, [], s);
      assert.deepEqual((await (await v.Post(10)).comments).map((c) => c.id), [101, 102, 103], `${s}: comment 100 left post 10`);
      assert.deepEqual(await (await v.Post(20)).comments, [], s);
      assert.deepEqual((await (await v.Region(['FR', 93] as never)).cities).map((c) => c.code), ['MRS', 'XXX'], s);
    }
  });

  it('PREFER_CACHE with the first level cached for some roots: same answers and cache', async () => {
    const prepare = async (file: string) => {
      await using store = await open(file, Mode.FRESHEN);
      await using view = store.view();
      await view.Author.many([1, 2], { include: { posts: true }, strategy: 'levels' });
      await view.Region.many([['FR', 93]] as never[], { include: { cities: true }, strategy: 'levels' });
    };
    const { tree, levels } = await both(prepare, Mode.PREFER_CACHE);
    assert.deepEqual(tree.answers, levels.answers);
    assert.deepEqual(tree.identity, levels.identity);
    assert.deepEqual(tree.rows, levels.rows);
    assert.deepEqual((tree.answers.authors as any[])[0].posts.map((p: any) => p.id), [11, 12, 10]);
  });

  it('FRESHEN in a view that already loaded part of the tree: same answers, same objects, same cache', async () => {
    const before = async (view: any) => {
      const a1 = await view.Author(1);
      const posts = await a1.posts;
      await Promise.all(posts.map((p: any) => p.comments));
      await view.Region(['FR', 11]);
    };
    const { tree, levels } = await both(async () => undefined, Mode.FRESHEN, before);
    assert.deepEqual(tree.answers, levels.answers);
    assert.deepEqual(tree.identity, levels.identity);
    assert.deepEqual(tree.rows, levels.rows);
  });

  it('a belongsTo whose row does not exist (dangling foreign key): same absence recorded, same NotFoundError when read', async () => {
    await db.exec('INSERT INTO comment VALUES (700, "dangling", 10, 777)');
    const out: Record<string, unknown> = {};
    for (const strategy of STRATEGIES) {
      const file = tmp.file(`tvl-${++n}-${strategy}.db`);
      await using store = await open(file, Mode.FRESHEN);
      await using view = store.view();
      const [a1] = await view.Author.many([1]);
      const preload = await view.preload([a1!], { posts: { comments: { user: true } } }, { strategy }).then(
        () => 'resolved',
        (e: unknown) => (e instanceof NotFoundError ? `NotFoundError ${e.message}` : `other ${String(e)}`),
      );
      const trips = store.stats.originRoundTrips;
      const p10 = (await a1!.posts).find((p) => p.id === 10)!;
      const dangling = (await p10.comments).find((c) => c.id === 700)!;
      await assert.rejects(dangling.user, NotFoundError, `${strategy}: reading the missing user`);
      assert.equal(store.stats.originRoundTrips, trips, `${strategy}: the absence is known to the view: nothing sent`);
      out[strategy] = { preload, rows: await dumpCache(file) };
    }
    const { tree, levels } = out as Record<Strategy, { preload: string; rows: any }>;
    assert.deepEqual(tree.rows, levels.rows);
    assert.ok(tree.rows.ever_loaded.User.includes("text:'777'"), 'the absent user is recorded as absent');
    assert.equal(tree.preload, levels.preload, 'preload itself settles the same way');
  });
});
