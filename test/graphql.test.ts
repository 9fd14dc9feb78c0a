import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { blogSchema } from '../examples/blog-schema.js';
import { startServer } from '../examples/graphql/server.js';
import { blogTables, blogTree } from './helpers/blog.js';
import { CountingProxy, isSessionSetup, SESSION_SETUP_STATEMENTS, statementsOf, type ClientCommand } from './helpers/counting-proxy.js';
import { createTestDb, MYSQL_HOST, MYSQL_PASSWORD, MYSQL_PORT, MYSQL_USER, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
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
  let proxy: CountingProxy;
  const tmp = tempDir();
  const cacheFile = tmp.file('blog-cache.db');
  before(async () => {
    db = await createTestDb(...blogTables(AUTHORS, POSTS, COMMENTS));
    proxy = new CountingProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    await proxy.listen();
  });
  after(async () => {
    await proxy.close();
    await db.drop();
    tmp.remove();
  });

  /** The origin, reached through the counting proxy: what the server is sent is counted on the wire. */
  const viaProxy = () => mysqlOrigin({ host: '127.0.0.1', port: proxy.port, user: MYSQL_USER, password: MYSQL_PASSWORD, database: db.name });

  /** The commands (round trips) the origin was sent while `fn` ran. */
  async function onWire<T>(fn: () => Promise<T>): Promise<{ value: T; sent: ClientCommand[] }> {
    const mark = proxy.mark();
    const value = await fn();
    return { value, sent: proxy.roundTripsSince(mark) };
  }

  it('answers a three-level tree over HTTP from a root resolver that preloads its selection set, a view per request', async () => {
    await using store = await openStore(blogSchema, { origin: viaProxy(), cache: testCache(cacheFile), mode: Mode.FRESHEN });
    const server = await startServer({ store, port: 0 });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      const first = await ask(server.url, QUERY);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, { data: { authors: blogTree(AUTHORS, POSTS, COMMENTS) } });
      assert.equal(store.stats.originQueries, 3, 'authors, their posts, the posts\' comments: one SELECT each');
      assert.equal(store.stats.originRoundTrips, 1, 'the authors, their posts and comments in one round trip');
      assert.ok(await eventually(() => server.openViews === 0), 'the request\'s view is closed after the response');

      // FRESHEN reads the origin once per view: a second request has a view of its own, so it reads again.
      const second = await ask(server.url, QUERY);
      assert.deepEqual(second.body, first.body);
      assert.equal(store.stats.originRoundTrips, 2);

      const one = await onWire(() => ask(server.url, '{ post(id: 7) { title published author { name } comments { likes post { id } } } }'));
      assert.deepEqual(one.value.body, {
        data: {
          post: {
            title: 'Post 7',
            published: new Date(Date.UTC(2024, 0, 1, 7)).toISOString(),
            author: { name: 'Author 2' },
            comments: [19, 20, 21].map((c) => ({ likes: c % 7, post: { id: 7 } })),
          },
        },
      });
      assert.equal(one.sent.length, 1, `the post, its author, comments and their post in one round trip:\n${one.sent.map((c) => c.sql).join('\n')}`);
      // A nullable field whose row does not exist resolves to null, with no error.
      const missing = await ask(server.url, '{ author(id: 999) { name posts { title } } post(id: 999) { title } one: author(id: 1) { name } }');
      assert.deepEqual(missing.body, { data: { author: null, post: null, one: { name: 'Author 1' } } });
    } finally {
      await server.close();
    }
  });

  it('a three-level query reaches the origin in exactly one round trip, counted at a TCP proxy', async () => {
    await using store = await openStore(blogSchema, { origin: viaProxy(), cache: testCache(tmp.file('wire.db')), mode: Mode.FRESHEN });
    const server = await startServer({ store, port: 0 });
    try {
      // Cold: each of the origin's two pools (lookups, trees) opens a connection and sets it up (read-only, UTC) first.
      const connections0 = proxy.connections;
      const cold = await onWire(() => ask(server.url, QUERY));
      assert.deepEqual(cold.value.body, { data: { authors: blogTree(AUTHORS, POSTS, COMMENTS) } });
      const setup = cold.sent.filter((c) => isSessionSetup(c.sql));
      assert.equal(setup.length, (proxy.connections - connections0) * SESSION_SETUP_STATEMENTS.length, 'connection setup: its SET statements per new connection, nothing else');
      assert.equal(cold.sent.length - setup.length, 1, cold.sent.map((c) => c.sql).join('\n'));

      // Warm: every command counted, nothing filtered.
      const warm = await onWire(() => ask(server.url, QUERY));
      assert.deepEqual(warm.value.body, cold.value.body);
      assert.equal(warm.sent.length, 1, `the roots and both levels below them in one round trip:\n${warm.sent.map((c) => c.sql).join('\n')}`);
      const [tree] = warm.sent as [ClientCommand];
      const statements = statementsOf(tree.sql ?? '');
      assert.equal(statements[0], 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      assert.deepEqual(statements.slice(1, -1).map((s) => /FROM `(\w+)`/.exec(s)?.[1]), ['authors', 'posts', 'comments'], 'the roots and both levels below them in the one packet');
      assert.match(statements[1] ?? '', /WHERE t0\.`id` IN \(1, 2, 3, 4, 5, 6, 7, 8, 9, 10\)$/, 'the root keys, bound');
      assert.equal(statements.at(-1), 'COMMIT');
    } finally {
      await server.close();
    }
  });

  it('answers the same request from the cache file alone with a PREFER_CACHE store: nothing sent to the origin', async () => {
    await using store = await openStore(blogSchema, { origin: viaProxy(), cache: testCache(cacheFile), mode: Mode.PREFER_CACHE });
    const server = await startServer({ store, port: 0 });
    try {
      const { value, sent } = await onWire(() => ask(server.url, QUERY));
      assert.deepEqual(value.body, { data: { authors: blogTree(AUTHORS, POSTS, COMMENTS) } });
      assert.equal(sent.length, 0);
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

describe('the GraphQL example as its run line starts it, with nothing set up', () => {
  it('serves a blog it writes to a SQLite origin file, in the mode MODE names, and stops on SIGTERM', { timeout: 60_000 }, async () => {
    const tmp = tempDir('adbv-graphql-');
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', MODE: 'PREFER_CACHE' };
    delete env.MYSQL_URL;
    delete env.CACHE;
    const child = spawn(process.execPath, [join(root, 'build', 'examples', 'graphql', 'server.js')], { cwd: tmp.path, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /^GraphQL at (\S+) /m.exec(out);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`the server exited (code ${code}) before listening:\n${out}${err}`)));
      });
      assert.match(out, /\(SQLite origin .*graphql-origin\.db, cache .*graphql-cache\.db, mode prefer-cache\)/);
      const { status, body } = await ask(url, '{ authors(ids: [1, 2]) { name posts { id } } nobody: author(id: 999) { name } }');
      assert.equal(status, 200);
      // The demo's blog: post p belongs to author ((p - 1) % 100) + 1, twenty posts each.
      const posts = (a: number) => Array.from({ length: 20 }, (_, i) => ({ id: a + 100 * i }));
      assert.deepEqual(body, { data: { authors: [{ name: 'Author 1', posts: posts(1) }, { name: 'Author 2', posts: posts(2) }], nobody: null } });
      child.kill('SIGTERM');
      assert.equal(await exited, 0, err);
      assert.ok(existsSync(join(tmp.path, '.demo', 'graphql-origin.db')) && existsSync(join(tmp.path, '.demo', 'graphql-cache.db')));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      tmp.remove();
    }
  });
});
