// Local changes through the GraphQL example: a put, patch or remove shows in a query's answer, through relations both ways and the root resolvers' include trees (still one origin round trip), in every mode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { blogSchema } from '../examples/blog-schema.js';
import { startServer } from '../examples/graphql/server.js';
import { blogTables } from './helpers/blog.js';
import { testCache } from './helpers/cache-driver.js';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { originWrites } from './helpers/origin-writes.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

/** One GraphQL request over HTTP, as a client sends it. */
async function ask(url: string, query: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

/** Authors 1 and 2, three levels down and back up: one root resolver, one include tree, one origin round trip. */
const TREE = '{ authors(ids: [1, 2]) { name posts { id title author { name } comments { id body post { title } } } } }';
/** A row only local (author 9) and its local post, through the same include tree. */
const LOCAL_TREE = '{ authors(ids: [9]) { name posts { id title author { name } comments { id } } } }';
/** A post moved to another author (belongsTo, then hasMany back), and an author removed locally. */
const ROOTS = '{ post(id: 3) { title author { name posts { id } } } gone: author(id: 3) { name } }';

const comment = (id: number, title: string, body = `Comment ${id}`) => ({ id, body, post: { title } });

/** What TREE answers once the changes of the test are made (blogTables(3, 2, 2): author a has posts 2a-1, 2a; post p has comments 2p-1, 2p). */
const EDITED_TREE = {
  data: {
    authors: [
      {
        name: 'Author 1',
        posts: [
          { id: 1, title: 'Post 1*', author: { name: 'Author 1' }, comments: [comment(1, 'Post 1*'), comment(100, 'Post 1*', 'a local comment')] },
          { id: 2, title: 'Post 2', author: { name: 'Author 1' }, comments: [comment(3, 'Post 2'), comment(4, 'Post 2')] },
          { id: 3, title: 'Post 3', author: { name: 'Author 1' }, comments: [comment(5, 'Post 3'), comment(6, 'Post 3')] },
        ],
      },
      { name: 'Author 2', posts: [{ id: 4, title: 'Post 4', author: { name: 'Author 2' }, comments: [comment(7, 'Post 4'), comment(8, 'Post 4')] }] },
    ],
  },
};
const EDITED_LOCAL_TREE = { data: { authors: [{ name: 'A local author', posts: [{ id: 50, title: 'A local post', author: { name: 'A local author' }, comments: [] }] }] } };
const EDITED_ROOTS = { data: { post: { title: 'Post 3', author: { name: 'Author 1', posts: [{ id: 1 }, { id: 2 }, { id: 3 }] } }, gone: null } };

describe('local changes through the GraphQL example', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...blogTables(3, 2, 2));
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('put, patch and remove show in the answers (relations both ways, include trees in one round trip), FRESHEN, PREFER_CACHE and OFFLINE; the origin is never written', async () => {
    const file = tmp.file('graphql-local.db');
    const writes0 = await originWrites(db);
    await using store = await openStore(blogSchema, { origin: mysqlOrigin(db.url), cache: testCache(file), mode: Mode.FRESHEN });
    {
      await using view = store.view();
      await view.Post.patch(1, { title: 'Post 1*' });
      await view.Post.patch(3, { author_id: 1 }); // moves from Author 2 to Author 1
      await view.Comment.remove(2);
      await view.Comment.put({ id: 100, body: 'a local comment', post_id: 1, likes: 0 });
      await view.Author.put({ id: 9, name: 'A local author' });
      await view.Post.put({ id: 50, title: 'A local post', author_id: 9, published: new Date('2024-06-01T00:00:00Z') });
      await view.Author.remove(3);
    }
    const server = await startServer({ store, port: 0 });
    try {
      const trips = store.stats.originRoundTrips;
      assert.deepEqual(await ask(server.url, TREE), EDITED_TREE, 'FRESHEN: the origin answer with the local changes on top');
      assert.equal(store.stats.originRoundTrips - trips, 1, 'the include tree still took one origin round trip');
      // Rows only local (author 9, post 50) are not where the origin derives the levels below from: their
      // own subtrees go in the same round trip.
      const local = store.stats.originRoundTrips;
      assert.deepEqual(await ask(server.url, LOCAL_TREE), EDITED_LOCAL_TREE, 'FRESHEN: a local-only root and its local post');
      assert.equal(store.stats.originRoundTrips - local, 1, 'a local-only root and its local post: one origin round trip');
      // Post 3 moved under Author 1 from Author 2, whom the tree does not reach at the origin: its comments come in the same trip.
      const moved = store.stats.originRoundTrips;
      assert.deepEqual(await ask(server.url, '{ authors(ids: [1]) { posts { id comments { id } } } }'), {
        data: { authors: [{ posts: [{ id: 1, comments: [{ id: 1 }, { id: 100 }] }, { id: 2, comments: [{ id: 3 }, { id: 4 }] }, { id: 3, comments: [{ id: 5 }, { id: 6 }] }] }] },
      });
      assert.equal(store.stats.originRoundTrips - moved, 1, 'a post moved in locally: one origin round trip');
      assert.deepEqual(await ask(server.url, ROOTS), EDITED_ROOTS, 'FRESHEN: a moved post and a removed author');
    } finally {
      await server.close();
    }
    await store.flush();
    // Other stores on the file, in the cache's modes: the same answers, from the cache.
    for (const [mode, origin] of [[Mode.PREFER_CACHE, mysqlOrigin(db.url)], [Mode.OFFLINE, null]] as const) {
      await using other = await openStore(blogSchema, { origin, cache: testCache(file), mode });
      const served = await startServer({ store: other, port: 0 });
      try {
        assert.deepEqual(await ask(served.url, TREE), EDITED_TREE, mode);
        assert.deepEqual(await ask(served.url, LOCAL_TREE), EDITED_LOCAL_TREE, mode);
        assert.deepEqual(await ask(served.url, ROOTS), EDITED_ROOTS, mode);
        assert.equal(other.stats.originQueries, 0, `${mode}: answered from the cache`);
      } finally {
        await served.close();
      }
    }
    // Discarded, the origin's blog is back in the answers.
    assert.equal(await store.discardLocalChanges(), 7);
    const server2 = await startServer({ store, port: 0 });
    try {
      const tree = (await ask(server2.url, '{ authors(ids: [1, 2]) { name posts { id title comments { id } } } gone: author(id: 3) { name } }')) as unknown;
      assert.deepEqual(tree, {
        data: {
          authors: [
            { name: 'Author 1', posts: [{ id: 1, title: 'Post 1', comments: [{ id: 1 }, { id: 2 }] }, { id: 2, title: 'Post 2', comments: [{ id: 3 }, { id: 4 }] }] },
            { name: 'Author 2', posts: [{ id: 3, title: 'Post 3', comments: [{ id: 5 }, { id: 6 }] }, { id: 4, title: 'Post 4', comments: [{ id: 7 }, { id: 8 }] }] },
          ],
          gone: { name: 'Author 3' },
        },
      });
    } finally {
      await server2.close();
    }
    assert.deepEqual(await originWrites(db), writes0, 'Com_insert/update/delete unchanged');
  });
});
