/**
 * The baselines over mysql2 with no persistent cache: naive per-row queries (N+1), a hand-written
 * per-request DataLoader, and a hand-written single JOIN of the whole tree; plus the memory reference of
 * target 4 (the batch job's rows as plain objects).
 */
import DataLoader from 'dataloader';
import mysql from 'mysql2/promise';
import { AUTHORS, type Outcome } from '../common.js';
import { runScenario, type Req } from '../scenarios.js';
import { RowReq, setwiseBatch, type AuthorRow, type CommentRow, type PostRow, type SelectIn } from '../setwise.js';
import type { Impl, ImplFactory } from './types.js';

const SELECT = {
  authors: 'SELECT id, name FROM authors',
  posts: 'SELECT id, title, author_id, published FROM posts',
  comments: 'SELECT id, body, post_id, likes FROM comments',
} as const;

/** The pool every mysql2 contender uses: asyncdbview's own defaults (8 connections, UTC, exact big numbers). */
export function createPool(url: string): mysql.Pool {
  return mysql.createPool({ uri: url, connectionLimit: 8, maxIdle: 8, timezone: 'Z', supportBigNumbers: true });
}

/** Opens the pool's connections now (handshakes, no statement), so timed runs do not pay for connecting. */
export async function prewarm(pool: mysql.Pool, n = 8): Promise<void> {
  const conns = await Promise.all(Array.from({ length: n }, () => pool.getConnection()));
  for (const c of conns) c.release();
}

async function rowsOf<T>(pool: mysql.Pool, sql: string, values: unknown[]): Promise<T[]> {
  const [rows] = await pool.query(sql, values);
  return rows as unknown as T[];
}

function one<T>(rows: T[], what: string, id: number): T {
  const row = rows[0];
  if (row === undefined) throw new Error(`${what} ${id} not found`);
  return row;
}

/** N+1: every resolver call is its own statement; nothing is remembered, not even within a request. */
class NaiveReq extends RowReq implements Req<AuthorRow, PostRow, CommentRow> {
  readonly #pool: mysql.Pool;

  constructor(pool: mysql.Pool) {
    super();
    this.#pool = pool;
  }

  async author(id: number): Promise<AuthorRow> {
    return one(await rowsOf<AuthorRow>(this.#pool, `${SELECT.authors} WHERE id = ?`, [id]), 'author', id);
  }

  async post(id: number): Promise<PostRow> {
    return one(await rowsOf<PostRow>(this.#pool, `${SELECT.posts} WHERE id = ?`, [id]), 'post', id);
  }

  async comment(id: number): Promise<CommentRow> {
    return one(await rowsOf<CommentRow>(this.#pool, `${SELECT.comments} WHERE id = ?`, [id]), 'comment', id);
  }

  postsOf(a: AuthorRow): Promise<PostRow[]> {
    return rowsOf<PostRow>(this.#pool, `${SELECT.posts} WHERE author_id = ? ORDER BY id`, [a.id]);
  }

  commentsOf(p: PostRow): Promise<CommentRow[]> {
    return rowsOf<CommentRow>(this.#pool, `${SELECT.comments} WHERE post_id = ? ORDER BY id`, [p.id]);
  }

}

async function byKey<T extends { id: number }>(pool: mysql.Pool, select: string, ids: readonly number[]): Promise<(T | Error)[]> {
  const rows = await rowsOf<T>(pool, `${select} WHERE id IN (?)`, [ids]);
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id) ?? new Error(`${id} not found`));
}

function groupBy<T>(rows: readonly T[], fk: (row: T) => number, keys: readonly number[]): T[][] {
  const groups = new Map<number, T[]>();
  for (const row of rows) {
    const k = fk(row);
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [row]);
    else list.push(row);
  }
  return keys.map((k) => groups.get(k) ?? []);
}

/**
 * The usual hand-written GraphQL setup: one DataLoader per lookup kind per request (default options: no
 * batch size limit), relation loaders priming the by-key loaders so Comment.post finds its post.
 */
class LoaderReq extends RowReq implements Req<AuthorRow, PostRow, CommentRow> {
  readonly #authors: DataLoader<number, AuthorRow>;
  readonly #posts: DataLoader<number, PostRow>;
  readonly #comments: DataLoader<number, CommentRow>;
  readonly #postsByAuthor: DataLoader<number, PostRow[]>;
  readonly #commentsByPost: DataLoader<number, CommentRow[]>;

  constructor(pool: mysql.Pool) {
    super();
    this.#authors = new DataLoader((ids) => byKey<AuthorRow>(pool, SELECT.authors, ids));
    this.#posts = new DataLoader((ids) => byKey<PostRow>(pool, SELECT.posts, ids));
    this.#comments = new DataLoader((ids) => byKey<CommentRow>(pool, SELECT.comments, ids));
    this.#postsByAuthor = new DataLoader(async (ids) => {
      const rows = await rowsOf<PostRow>(pool, `${SELECT.posts} WHERE author_id IN (?) ORDER BY author_id, id`, [ids]);
      for (const r of rows) this.#posts.prime(r.id, r);
      return groupBy(rows, (r) => r.author_id, ids);
    });
    this.#commentsByPost = new DataLoader(async (ids) => {
      const rows = await rowsOf<CommentRow>(pool, `${SELECT.comments} WHERE post_id IN (?) ORDER BY post_id, id`, [ids]);
      for (const r of rows) this.#comments.prime(r.id, r);
      return groupBy(rows, (r) => r.post_id, ids);
    });
  }

  author(id: number): Promise<AuthorRow> {
    return this.#authors.load(id);
  }

  post(id: number): Promise<PostRow> {
    return this.#posts.load(id);
  }

  comment(id: number): Promise<CommentRow> {
    return this.#comments.load(id);
  }

  postsOf(a: AuthorRow): Promise<PostRow[]> {
    return this.#postsByAuthor.load(a.id);
  }

  commentsOf(p: PostRow): Promise<CommentRow[]> {
    return this.#commentsByPost.load(p.id);
  }

}

/**
 * The tree in one statement, written by hand: the root resolver (Query.authors, which knows its roots)
 * sends one LEFT JOIN of the three tables and splits its rows into maps; every other resolver reads the
 * maps. The bar for one-round-trip loading: nothing is written anywhere.
 */
class JoinReq extends RowReq implements Req<AuthorRow, PostRow, CommentRow> {
  readonly #pool: mysql.Pool;
  #loaded: Promise<void> | undefined;
  readonly #authors = new Map<number, AuthorRow>();
  readonly #posts = new Map<number, PostRow>();
  readonly #postsByAuthor = new Map<number, PostRow[]>();
  readonly #commentsByPost = new Map<number, CommentRow[]>();

  constructor(pool: mysql.Pool) {
    super();
    this.#pool = pool;
  }

  async #load(): Promise<void> {
    const ids = Array.from({ length: AUTHORS }, (_, i) => i + 1);
    // Rows as arrays: the three tables' columns share names.
    const [rows] = await this.#pool.query({
      sql:
        'SELECT a.id, a.name, p.id, p.title, p.author_id, p.published, c.id, c.body, c.post_id, c.likes ' +
        'FROM authors a LEFT JOIN posts p ON p.author_id = a.id LEFT JOIN comments c ON c.post_id = p.id ' +
        'WHERE a.id IN (?) ORDER BY a.id, p.id, c.id',
      values: [ids],
      rowsAsArray: true,
    });
    let post: PostRow | undefined;
    for (const r of rows as unknown as [number, string, number | null, string, number, Date, number | null, string, number, number][]) {
      const [aid, name, pid, title, authorId, published, cid, body, postId, likes] = r;
      if (!this.#authors.has(aid)) {
        this.#authors.set(aid, { id: aid, name });
        this.#postsByAuthor.set(aid, []);
      }
      if (pid === null) continue;
      if (post?.id !== pid) {
        post = { id: pid, title, author_id: authorId, published };
        this.#posts.set(pid, post);
        this.#postsByAuthor.get(aid)?.push(post);
        this.#commentsByPost.set(pid, []);
      }
      if (cid !== null) this.#commentsByPost.get(pid)?.push({ id: cid, body, post_id: postId, likes });
    }
  }

  #get<T>(map: Map<number, T>, id: number, what: string): Promise<T> {
    this.#loaded ??= this.#load();
    return this.#loaded.then(() => {
      const v = map.get(id);
      if (v === undefined) throw new Error(`${what} ${id} is not in the joined tree`);
      return v;
    });
  }

  author(id: number): Promise<AuthorRow> {
    return this.#get(this.#authors, id, 'author');
  }

  post(id: number): Promise<PostRow> {
    return this.#get(this.#posts, id, 'post');
  }

  comment(id: number): Promise<CommentRow> {
    return Promise.reject(new Error(`the JOIN baseline answers the tree only (comment ${id})`));
  }

  postsOf(a: AuthorRow): Promise<PostRow[]> {
    return this.#get(this.#postsByAuthor, a.id, 'posts of author');
  }

  commentsOf(p: PostRow): Promise<CommentRow[]> {
    return this.#get(this.#commentsByPost, p.id, 'comments of post');
  }

}

function poolImpl(url: string, makeReq: (pool: mysql.Pool) => Req<AuthorRow, PostRow, CommentRow>, warm: boolean): Promise<Impl> {
  const pool = createPool(url);
  const impl: Impl = {
    run: (scenario, plans) => runScenario(scenario, makeReq(pool), plans),
    close: () => pool.end(),
  };
  return warm ? prewarm(pool).then(() => impl) : Promise.resolve(impl);
}

export const naive: ImplFactory = (spec) => poolImpl(spec.originUrl, (pool) => new NaiveReq(pool), spec.scenario !== 'coldstart');

export const dataloader: ImplFactory = (spec) => poolImpl(spec.originUrl, (pool) => new LoaderReq(pool), spec.scenario !== 'coldstart');

export const join: ImplFactory = (spec) => poolImpl(spec.originUrl, (pool) => new JoinReq(pool), spec.scenario !== 'coldstart');

/**
 * The memory reference of target 4: the rows the batch job reads, fetched set-wise straight from MariaDB
 * (no proxy) and held as the plain objects mysql2 makes, in maps.
 */
export const plain: ImplFactory = async (spec) => {
  const pool = createPool(spec.directUrl);
  await prewarm(pool, 1);
  const select: SelectIn = (table, column, keys) =>
    keys.length === 0 ? Promise.resolve([]) : rowsOf(pool, `${SELECT[table]} WHERE ${column} IN (?)`, [keys]);
  return {
    async run(scenario, plans): Promise<Outcome> {
      if (scenario !== 'batch') throw new Error('the plain-object reference runs the batch job only');
      const { rows, checksum } = await setwiseBatch(select, plans.batch);
      return { rows, checksum };
    },
    close: () => pool.end(),
  };
};
