import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Mode, mysqlOrigin, openStore, sqliteCache } from 'asyncdbview';
import { blogSchema } from '../examples/blog-schema.js';
import { startServer } from '../examples/graphql/server.js';
import { blogTables, blogTree } from './helpers/blog.js';
import { countSelects, createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AUTHORS = 10;
const POSTS = 5;
const COMMENTS = 3;
const QUERY = `{ authors(ids: [${Array.from({ length: AUTHORS }, (_, i) => i + 1).join(', ')}]) { name posts { title comments { body } } } }`;

/** One GraphQL request over HTTP, as a client sends it. */
async function ask(url: string, query: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: await res.json() };
}

/** Waits (briefly) until `test` holds: the server closes a view once its response has gone out. */
async function eventually(test: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !test(); i++) await new Promise((r) => setTimeout(r, 10));
  return test();
}

describe('GraphQL example (graphql-js + graphql-http on node:http)', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  const cacheFile = tmp.file('blog-cache.db');
  before(async () => {
    db = await createTestDb(...blogTables(AUTHORS, POSTS, COMMENTS));
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  it('answers a three-level tree over HTTP with one origin statement per level, a view per request', async () => {
    await using store = await openStore(blogSchema, { origin: mysqlOrigin(db.url), cache: sqliteCache(cacheFile), mode: Mode.FRESHEN });
    const server = await startServer({ store, port: 0 });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      const first = await countSelects(db, () => ask(server.url, QUERY));
      assert.equal(first.value.status, 200);
      assert.deepEqual(first.value.body, { data: { authors: blogTree(AUTHORS, POSTS, COMMENTS) } });
      assert.equal(first.selects, 3, 'authors, their posts, the posts\' comments: one SELECT each');
      assert.equal(store.stats.originQueries, 3);
      assert.ok(await eventually(() => server.openViews === 0), 'the request\'s view is closed after the response');

      // FRESHEN reads the origin once per view: a second request has a view of its own, so it reads again.
      const second = await countSelects(db, () => ask(server.url, QUERY));
      assert.deepEqual(second.value.body, first.value.body);
      assert.equal(second.selects, 3);

      const one = await ask(server.url, '{ post(id: 7) { title published author { name } comments { likes post { id } } } }');
      assert.deepEqual(one.body, {
        data: {
          post: {
            title: 'Post 7',
            published: new Date(Date.UTC(2024, 0, 1, 7)).toISOString(),
            author: { name: 'Author 2' },
            comments: [19, 20, 21].map((c) => ({ likes: c % 7, post: { id: 7 } })),
          },
        },
      });
      const missing = await ask(server.url, '{ author(id: 999) { name } }');
      assert.equal(missing.body.data.author, null);
      assert.match(missing.body.errors[0].message, /999/);
    } finally {
      await server.close();
    }
  });

  it('answers the same request from the cache file alone with a PREFER_CACHE store: no origin statement', async () => {
    await using store = await openStore(blogSchema, { origin: mysqlOrigin(db.url), cache: sqliteCache(cacheFile), mode: Mode.PREFER_CACHE });
    const server = await startServer({ store, port: 0 });
    try {
      const { value, selects } = await countSelects(db, () => ask(server.url, QUERY));
      assert.deepEqual(value.body, { data: { authors: blogTree(AUTHORS, POSTS, COMMENTS) } });
      assert.equal(selects, 0);
      assert.equal(store.stats.originQueries, 0);
    } finally {
      await server.close();
    }
  });

  it('README "## GraphQL" shows the example\'s code as it is', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## GraphQL'));
    const match = /```ts\n([\s\S]*?)```/.exec(section);
    assert.ok(readme.includes('## GraphQL') && match?.[1], 'README has a ```ts block under "## GraphQL"');
    const example = readFileSync(join(root, 'examples', 'graphql', 'server.ts'), 'utf8');
    for (const part of match[1].split(/\n\s*\/\/ …\n/)) assert.ok(example.includes(part.trim()), `examples/graphql/server.ts contains:\n${part}`);
  });
});
