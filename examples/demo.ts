/**
 * The demo: a blog (authors → posts → comments) in a SQLite origin file it creates itself, read the way a
 * GraphQL resolver tree reads it — cold (empty cache, FRESHEN), warm (PREFER_CACHE) and offline (no origin).
 * Run it with `npm run demo`; no database server is needed.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { Mode, openStore, sqliteCache, sqliteOrigin, type Store } from 'asyncdbview';
import { blogSchema } from './blog-schema.js';

export { blogSchema };

const AUTHORS = 100;
const POSTS_PER_AUTHOR = 20;
const COMMENTS_PER_POST = 5;

/** Writes the origin file: 100 authors, 2,000 posts, 10,000 comments. */
export async function createBlogOrigin(file: string): Promise<void> {
  rmSync(file, { force: true });
  const db = new sqlite3.Database(file);
  const exec = (sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (e) => (e ? reject(e) : resolve())));
  const run = (sql: string, params: unknown[]) => new Promise<void>((resolve, reject) => db.run(sql, params, (e) => (e ? reject(e) : resolve())));
  await exec(`
    CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author_id INTEGER NOT NULL, published TEXT NOT NULL);
    CREATE TABLE comments (id INTEGER PRIMARY KEY, body TEXT NOT NULL, post_id INTEGER NOT NULL, likes INTEGER NOT NULL);
    CREATE INDEX posts_author ON posts (author_id);
    CREATE INDEX comments_post ON comments (post_id);`);
  const authors = Array.from({ length: AUTHORS }, (_, i) => [i + 1, `Author ${i + 1}`]);
  const posts = Array.from({ length: AUTHORS * POSTS_PER_AUTHOR }, (_, i) => [
    i + 1, `Post ${i + 1}`, (i % AUTHORS) + 1, new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString(),
  ]);
  const comments = Array.from({ length: posts.length * COMMENTS_PER_POST }, (_, i) => [i + 1, `Comment ${i + 1}`, (i % posts.length) + 1, i % 17]);
  await run('INSERT INTO authors SELECT value->>0, value->>1 FROM json_each(?)', [JSON.stringify(authors)]);
  await run('INSERT INTO posts SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?)', [JSON.stringify(posts)]);
  await run('INSERT INTO comments SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?)', [JSON.stringify(comments)]);
  await new Promise<void>((resolve, reject) => db.close((e) => (e ? reject(e) : resolve())));
}

/**
 * The main job, resolved field by field as GraphQL resolvers would: every author, their posts, each
 * post's comments and each comment's post (already known: no statement).
 */
export async function mainJob(store: Store<(typeof blogSchema)['entities']>) {
  await using view = store.view();
  const authors = await Promise.all(Array.from({ length: AUTHORS }, (_, i) => view.Author(i + 1)));
  const posts = (await Promise.all(authors.map((a) => a.posts))).flat();
  const comments = (await Promise.all(posts.map((p) => p.comments))).flat();
  const back = await Promise.all(comments.map((c) => c.post));
  if (back.some((p, i) => p.id !== comments[i]?.post_id)) throw new Error('comment.post does not match comment.post_id');
  const likes = comments.reduce((sum, c) => sum + c.likes, 0);
  return { authors: authors.length, posts: posts.length, comments: comments.length, likes };
}

async function main(): Promise<void> {
  const dir = join(process.cwd(), '.demo');
  mkdirSync(dir, { recursive: true });
  const originFile = join(dir, 'origin.db');
  const cacheFile = join(dir, 'cache.db');
  await createBlogOrigin(originFile);
  for (const f of [cacheFile, `${cacheFile}-wal`, `${cacheFile}-shm`]) rmSync(f, { force: true });

  const runs: [string, Parameters<typeof openStore>[1]][] = [
    ['cold (empty cache, FRESHEN)', { origin: sqliteOrigin(originFile), cache: sqliteCache(cacheFile), mode: Mode.FRESHEN }],
    ['warm (PREFER_CACHE)', { origin: sqliteOrigin(originFile), cache: sqliteCache(cacheFile), mode: Mode.PREFER_CACHE }],
    ['offline (no origin)', { origin: null, cache: sqliteCache(cacheFile), mode: Mode.OFFLINE }],
  ];
  console.log(`origin: ${originFile} (SQLite, made by the demo)\ncache:  ${cacheFile}\n`);
  console.log('run                          authors  posts  comments  origin stmts  cache stmts      ms');
  for (const [label, options] of runs) {
    await using store = await openStore(blogSchema, options);
    const t0 = performance.now();
    const loaded = await mainJob(store);
    const ms = performance.now() - t0;
    console.log(
      `${label.padEnd(28)} ${String(loaded.authors).padStart(7)} ${String(loaded.posts).padStart(6)} ${String(loaded.comments).padStart(9)}` +
        ` ${String(store.stats.originQueries).padStart(13)} ${String(store.stats.cacheQueries).padStart(12)} ${ms.toFixed(1).padStart(7)}`,
    );
  }
  console.log('\nThe cache statements include opening the cache file and each write transaction (BEGIN, writes, COMMIT).');
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  await main();
}
