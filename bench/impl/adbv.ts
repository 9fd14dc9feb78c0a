/**
 * asyncdbview, three ways: cold (an empty cache file per run, FRESHEN), warm (PREFER_CACHE on a filled
 * cache file) and OFFLINE (no origin at all). Each run is one view, as one request would be.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Mode, mysqlOrigin, openStore, sqliteCache, type EntityOf, type SqliteDriver, type Store, type View } from 'asyncdbview';
import { AUTHORS, type CellSpec } from '../common.js';
import { runScenario, type Req } from '../scenarios.js';
import { benchSchema, type BenchEntities } from '../schema.js';
import type { Impl, ImplFactory } from './types.js';

type Author = EntityOf<BenchEntities, 'Author'>;
type Post = EntityOf<BenchEntities, 'Post'>;
type Comment = EntityOf<BenchEntities, 'Comment'>;

/** The resolver face of one view. */
export class ViewReq implements Req<Author, Post, Comment> {
  readonly #view: View<BenchEntities>;

  constructor(view: View<BenchEntities>) {
    this.#view = view;
  }

  author(id: number): Promise<Author> {
    return this.#view.Author(id);
  }

  post(id: number): Promise<Post> {
    return this.#view.Post(id);
  }

  comment(id: number): Promise<Comment> {
    return this.#view.Comment(id);
  }

  postsOf(a: Author): Promise<readonly Post[]> {
    return a.posts;
  }

  commentsOf(p: Post): Promise<readonly Comment[]> {
    return p.comments;
  }

  authorOf(p: Post): Promise<Author> {
    return p.author;
  }

  postOf(c: Comment): Promise<Post> {
    return c.post;
  }

  authorIdOf(p: Post): number {
    return p.author_id;
  }

  postIdOf(c: Comment): number {
    return c.post_id;
  }

  end(): void {
    this.#view.close();
  }
}

/**
 * The resolver face of one view whose root resolver (Query.authors, which knows its roots) preloads the
 * whole response: `view.Author.many(roots, { include, strategy })`, the include being what
 * `graphqlInclude(info)` gives for the tree's query. Every other resolver then reads from memory.
 */
class PreloadReq extends ViewReq {
  readonly #roots: Promise<Map<number, Author>>;

  constructor(view: View<BenchEntities>, strategy: 'tree' | 'levels') {
    super(view);
    const ids = Array.from({ length: AUTHORS }, (_, i) => i + 1);
    this.#roots = view.Author.many(ids, { include: { posts: { comments: { post: {} } } }, strategy }).then(
      (authors) => new Map(authors.map((a) => [a.id, a])),
    );
  }

  override async author(id: number): Promise<Author> {
    const a = (await this.#roots).get(id);
    if (a === undefined) throw new Error(`author ${id} was not preloaded`);
    return a;
  }
}

function storeImpl(
  getStore: () => Store<BenchEntities>,
  extra: Partial<Impl> & Pick<Impl, 'close'>,
  makeReq: (view: View<BenchEntities>) => ViewReq = (view) => new ViewReq(view),
): Impl {
  return {
    run: (scenario, plans) => runScenario(scenario, makeReq(getStore().view()), plans),
    cacheStatements: () => getStore().stats.cacheQueries,
    selfOriginStatements: () => getStore().stats.originQueries,
    ...extra,
  };
}

function removeDb(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
}

/**
 * Cold: every run opens a new store on a new, empty cache file, FRESHEN. Opening it, and connecting its
 * pool (mysqlOrigin's own, from the URL, as users make it), is done before the clock starts: a long-lived
 * server has its pool connected when a request meets a cold cache. (The cold-start scenario measures the
 * rest.)
 */
function coldImpl(spec: CellSpec, makeReq?: (view: View<BenchEntities>) => ViewReq, driver: SqliteDriver = 'sqlite3'): Promise<Impl> | Impl {
  if (spec.scenario === 'coldstart') {
    const file = join(spec.tmpDir, 'coldstart-cold.db');
    return openStore(benchSchema, { origin: mysqlOrigin(spec.originUrl), cache: sqliteCache(file, { driver }), mode: Mode.FRESHEN }).then((store) =>
      storeImpl(() => store, { close: () => store.close() }, makeReq),
    );
  }
  let store: Store<BenchEntities> | undefined;
  let file = '';
  let n = 0;
  const current = (): Store<BenchEntities> => {
    if (store === undefined) throw new Error('no store: beforeRun was not called');
    return store;
  };
  return storeImpl(current, {
    async beforeRun() {
      file = join(spec.tmpDir, `cold-${n++}.db`);
      removeDb(file);
      const origin = mysqlOrigin(spec.originUrl);
      store = await openStore(benchSchema, { origin, cache: sqliteCache(file, { driver }), mode: Mode.FRESHEN });
      // Connects the pool's 8 connections and the 2 reserved for one-trip trees (no statement is sent).
      await store.warmUp();
    },
    async afterRun() {
      await store?.close();
      store = undefined;
      removeDb(file);
    },
    async close() {
      await store?.close();
    },
  }, makeReq);
}

export const cold: ImplFactory = async (spec) => coldImpl(spec);

/** Cold, the root resolver preloading the whole tree in one origin round trip (`strategy: 'tree'`). */
export const coldTree: ImplFactory = async (spec) => coldImpl(spec, (view) => new PreloadReq(view, 'tree'));

/** Cold, the root resolver preloading the tree level by level (`strategy: 'levels'`). */
export const coldLevels: ImplFactory = async (spec) => coldImpl(spec, (view) => new PreloadReq(view, 'levels'));

function cacheFile(spec: CellSpec): string {
  if (spec.cacheFile === undefined) throw new Error(`${spec.impl} needs a warm cache file`);
  return spec.cacheFile;
}

/** Cold on the better-sqlite3 cache driver. */
export const coldBsq: ImplFactory = async (spec) => coldImpl(spec, undefined, 'better-sqlite3');

function warmImpl(spec: CellSpec, driver: SqliteDriver): Promise<Impl> {
  return openStore(benchSchema, { origin: mysqlOrigin(spec.originUrl), cache: sqliteCache(cacheFile(spec), { driver }), mode: Mode.PREFER_CACHE }).then(
    (store) => storeImpl(() => store, { close: () => store.close() }),
  );
}

function offlineImpl(spec: CellSpec, driver: SqliteDriver): Promise<Impl> {
  return openStore(benchSchema, { origin: null, cache: sqliteCache(cacheFile(spec), { driver }), mode: Mode.OFFLINE }).then((store) =>
    storeImpl(() => store, { close: () => store.close() }),
  );
}

/** Warm: one store on a filled cache file, PREFER_CACHE; the origin is there but should not be needed. */
export const warm: ImplFactory = (spec) => warmImpl(spec, 'sqlite3');

/** OFFLINE: one store on a filled cache file and no origin. */
export const offline: ImplFactory = (spec) => offlineImpl(spec, 'sqlite3');

/** Warm on the better-sqlite3 cache driver. */
export const warmBsq: ImplFactory = (spec) => warmImpl(spec, 'better-sqlite3');

/** OFFLINE on the better-sqlite3 cache driver. */
export const offlineBsq: ImplFactory = (spec) => offlineImpl(spec, 'better-sqlite3');
