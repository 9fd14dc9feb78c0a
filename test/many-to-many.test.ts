import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { defineSchema, entity, IsOfflineError, manyToMany, Mode } from 'asyncdbview';
import { queryCacheFile } from './helpers/cache-file.js';
import { measure } from './helpers/measure.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { fileStores } from './helpers/file-stores.js';

const skip = await mysqlSkipReason();

const schema = defineSchema({
  Post: entity({
    table: 'post', key: 'id',
    columns: { id: 'integer', title: 'text' },
    relations: { tags: manyToMany('Tag', { through: 'post_tags', sourceKey: 'post_id', targetKey: 'tag_id' }) },
  }),
  Tag: entity({
    table: 'tag', key: 'id',
    columns: { id: 'integer', label: 'text' },
    relations: { posts: manyToMany('Post', { through: 'post_tags', sourceKey: 'tag_id', targetKey: 'post_id' }) },
  }),
});

/**
 * Post 1 has tags 3, 1 (linked in that order); post 2 has tags 1, 2; post 3 and 4 have none; tag 4 is on no
 * post. The join table has a surrogate key and a column the schema does not know.
 */
const TABLES = [
  'CREATE TABLE post (id INT PRIMARY KEY, title VARCHAR(100) NOT NULL)',
  'CREATE TABLE tag (id INT PRIMARY KEY, label VARCHAR(100) NOT NULL)',
  'CREATE TABLE post_tags (id INT AUTO_INCREMENT PRIMARY KEY, post_id INT NOT NULL, tag_id INT NOT NULL, added_by VARCHAR(20), KEY (post_id), KEY (tag_id))',
  "INSERT INTO post VALUES (1, 'p1'), (2, 'p2'), (3, 'p3'), (4, 'p4')",
  "INSERT INTO tag VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')",
  "INSERT INTO post_tags (post_id, tag_id, added_by) VALUES (1, 3, 'x'), (2, 2, 'x'), (1, 1, 'y'), (2, 1, 'y')",
];

describe('manyToMany', { skip }, () => {
  let db: TestDb;
  let file: string;
  let n = 0;
  const tmp = tempDir();
  beforeEach(async () => {
    db = await createTestDb(...TABLES);
    file = tmp.file(`m2m-${++n}.db`);
  });
  afterEach(async () => {
    await db.drop();
  });
  after(() => tmp.remove());

  const { online, offline } = fileStores(schema, () => ({ url: db.url, file }));

  it('one origin statement per batch, ordered by the target key, one object per tag', async () => {
    await using store = await online();
    await using view = store.view();
    const posts = await view.Post.many([1, 2, 3]);
    const step = await measure(db, store, () => Promise.all(posts.map((p) => p.tags)));
    assert.equal(step.originQueries, 1);
    assert.equal(step.selects, 1);
    const [t1, t2, t3] = step.value;
    assert.deepEqual(t1?.map((t) => t.id), [1, 3], 'by tag key, not link order');
    assert.deepEqual(t1?.map((t) => t.label), ['one', 'three']);
    assert.deepEqual(t2?.map((t) => t.id), [1, 2]);
    assert.deepEqual(t3, []);
    assert.equal(t1?.[0], t2?.[0], 'tag 1 through post 1 and through post 2 is one object');
    const byKey = await measure(db, store, () => view.Tag(1));
    assert.equal(byKey.value, t1?.[0]);
    assert.equal(byKey.originQueries, 0, 'the tag came from the origin in this view');
    assert.equal(byKey.selects, 0, 'the tag came from the origin in this view');
    const again = await measure(db, store, async () => posts[0]?.tags);
    assert.equal(again.originQueries, 0);
    assert.equal(again.selects, 0);
  });

  it('completeness per source key: offline answers what was loaded, [] for no tags, IsOfflineError for the rest', async () => {
    {
      await using store = await online();
      await using view = store.view();
      const [p1, , p3] = await view.Post.many([1, 2, 3, 4]);
      await Promise.all([p1?.tags, p3?.tags]);
    }
    assert.deepEqual(await queryCacheFile(file, 'SELECT post_id, tag_id FROM post_tags ORDER BY post_id, tag_id'), [
      { post_id: 1, tag_id: 1 },
      { post_id: 1, tag_id: 3 },
    ], 'the join table is mirrored for what was loaded');
    await using store = await offline();
    await using view = store.view();
    const [p1, p2, p3, p4] = await view.Post.many([1, 2, 3, 4]);
    assert.deepEqual((await p1!.tags).map((t) => t.id), [1, 3]);
    assert.deepEqual(await p3!.tags, [], 'no tags, recorded complete: [] offline, not an error');
    await assert.rejects(p2!.tags, IsOfflineError, 'never asked');
    await assert.rejects(p4!.tags, IsOfflineError, 'never asked');
    assert.equal((await p1!.tags)[1], await view.Tag(3), 'offline too, one object per tag');
  });

  it('PREFER_CACHE answers complete source keys from the cache and asks the origin for the rest in one statement', async () => {
    {
      await using store = await online();
      await using view = store.view();
      await (await view.Post(1)).tags;
    }
    await using store = await online(Mode.PREFER_CACHE);
    await using view = store.view();
    const posts = await view.Post.many([1, 2, 3]);
    const step = await measure(db, store, () => Promise.all(posts.map((p) => p.tags)));
    assert.equal(step.originQueries, 1, 'posts 2 and 3 in one statement; post 1 from the cache');
    assert.equal(step.selects, 1, 'posts 2 and 3 in one statement; post 1 from the cache');
    assert.deepEqual(step.value.map((ts) => ts.map((t) => t.id)), [[1, 3], [1, 2], []]);
    assert.equal(step.value[0]?.[0], step.value[1]?.[0], 'tag 1 from the cache and tag 1 from the origin: one object');
  });

  it('the reverse relation through the same join table', async () => {
    await using store = await online();
    await using view = store.view();
    const tags = await view.Tag.many([1, 2, 3, 4]);
    const step = await measure(db, store, () => Promise.all(tags.map((t) => t.posts)));
    assert.equal(step.originQueries, 1);
    assert.equal(step.selects, 1);
    assert.deepEqual(step.value.map((ps) => ps.map((p) => p.id)), [[1, 2], [2], [1], []]);
    const p1 = await view.Post(1);
    assert.equal(step.value[0]?.[0], p1);
    // Both directions share the cache's join table.
    const tagsOfP1 = await measure(db, store, () => p1.tags);
    assert.equal(tagsOfP1.originQueries, 1, 'Post.tags is its own lookup');
    assert.equal(tagsOfP1.selects, 1, 'Post.tags is its own lookup');
    assert.deepEqual(tagsOfP1.value.map((t) => t.id), [1, 3]);
    assert.equal(tagsOfP1.value[0], tags[0]);

    await using off = await offline();
    await using ov = off.view();
    const [t1, , , t4] = await ov.Tag.many([1, 2, 3, 4]);
    assert.deepEqual((await t1!.posts).map((p) => p.id), [1, 2]);
    assert.deepEqual(await t4!.posts, []);
    assert.deepEqual((await (await ov.Post(1)).tags).map((t) => t.id), [1, 3]);
  });

  it('FRESHEN sees a link removed (and one added) at the origin, and so does an OFFLINE store afterwards', async () => {
    {
      await using store = await online();
      await using view = store.view();
      const posts = await view.Post.many([1, 2, 3]);
      await Promise.all(posts.map((p) => p.tags));
    }
    await db.exec('DELETE FROM post_tags WHERE post_id = 1 AND tag_id = 3', "INSERT INTO post_tags (post_id, tag_id) VALUES (3, 4)");
    {
      await using store = await online(Mode.PREFER_CACHE);
      await using view = store.view();
      assert.deepEqual((await (await view.Post(1)).tags).map((t) => t.id), [1, 3], 'PREFER_CACHE: still the cached links');
    }
    {
      await using store = await online();
      await using view = store.view();
      const posts = await view.Post.many([1, 3]);
      const step = await measure(db, store, () => Promise.all(posts.map((p) => p.tags)));
      assert.equal(step.originQueries, 1);
      assert.equal(step.selects, 1);
      assert.deepEqual(step.value.map((ts) => ts.map((t) => t.id)), [[1], [4]]);
    }
    await using store = await offline();
    await using view = store.view();
    const [p1, p2, p3] = await view.Post.many([1, 2, 3]);
    assert.deepEqual((await p1!.tags).map((t) => t.id), [1], 'offline: the removed link is gone');
    assert.deepEqual((await p2!.tags).map((t) => t.id), [1, 2], 'untouched');
    assert.deepEqual((await p3!.tags).map((t) => t.id), [4], 'offline: the new link');
    assert.equal((await view.Tag(3)).label, 'three', 'the tag itself is still a row');
  });

  it('a tag deleted at the origin leaves the posts that had it (no stale tag offline)', async () => {
    {
      await using store = await online();
      await using view = store.view();
      const posts = await view.Post.many([1, 2]);
      await Promise.all(posts.map((p) => p.tags));
      await view.Tag(2);
    }
    await db.exec('DELETE FROM post_tags WHERE tag_id = 2', 'DELETE FROM tag WHERE id = 2');
    {
      await using store = await online();
      await using view = store.view();
      await assert.rejects(view.Tag(2), /not found/);
    }
    await using store = await offline();
    await using view = store.view();
    const p2 = await view.Post(2);
    const tags = await p2.tags.then((ts) => ts.map((t) => t.id), (e: unknown) => e);
    assert.ok(
      tags instanceof IsOfflineError || (Array.isArray(tags) && !tags.includes(2)),
      `offline Post 2.tags must not still list the deleted tag 2; got ${String(tags)}`,
    );
  });
});
