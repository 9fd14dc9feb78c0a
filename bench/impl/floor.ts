/**
 * The floor: the same rows read from the warm cache file by raw sqlite3 IN-queries over json_each, with no
 * library in between (no decoding, no objects but the driver's rows). Two forms:
 * - `floor`: set-wise, one statement per level, the answers assembled in loops;
 * - `floor-resolvers`: the same statements, then the scenario's own resolver-shaped code (an async call
 *   per field, Promise.all per level) answered from in-memory maps: what awaiting field by field costs
 *   with no library at all. (It knows the keys in advance, so it is a reference, not a contender.)
 */
import sqlite3 from 'sqlite3';
import type { Plans } from '../common.js';
import { runScenario, type Req } from '../scenarios.js';
import { RowReq, setwiseBatch, setwisePoint, setwiseTree, type AuthorRow, type CommentRow, type PostRow, type SelectIn } from '../setwise.js';
import type { Impl, ImplFactory } from './types.js';

async function openSelect(file: string | undefined): Promise<{ select: SelectIn; statements: () => number; close: () => Promise<void> }> {
  if (file === undefined) throw new Error('the floor needs a warm cache file');
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d: sqlite3.Database = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (e) => (e ? reject(e) : resolve(d)));
  });
  let statements = 0;
  const select: SelectIn = <T>(table: string, column: string, keys: readonly number[]) => {
    statements++;
    return new Promise<T[]>((resolve, reject) => {
      db.all(`SELECT * FROM ${table} WHERE ${column} IN (SELECT value FROM json_each(?))`, [JSON.stringify(keys)], (e: Error | null, rows: T[]) =>
        e ? reject(e) : resolve(rows),
      );
    });
  };
  return { select, statements: () => statements, close: () => new Promise<void>((resolve, reject) => db.close((e) => (e ? reject(e) : resolve()))) };
}

export const floor: ImplFactory = async (spec) => {
  const { select, statements, close } = await openSelect(spec.cacheFile);
  return {
    async run(scenario, plans) {
      switch (scenario) {
        case 'tree':
        case 'coldstart':
          return setwiseTree(select);
        case 'batch': {
          const { rows, checksum } = await setwiseBatch(select, plans.batch);
          return { rows, checksum };
        }
        case 'point':
          return setwisePoint(select, plans.point);
      }
    },
    cacheStatements: statements,
    close,
  };
};

function group<T>(rows: readonly T[], fk: (row: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const row of rows) {
    const list = out.get(fk(row));
    if (list === undefined) out.set(fk(row), [row]);
    else list.push(row);
  }
  return out;
}

function must<T>(row: T | undefined, what: string): Promise<T> {
  return row === undefined ? Promise.reject(new Error(`${what} not prefetched`)) : Promise.resolve(row);
}

/** Resolvers answered from maps filled beforehand. */
class MapReq extends RowReq implements Req<AuthorRow, PostRow, CommentRow> {
  readonly authors = new Map<number, AuthorRow>();
  readonly posts = new Map<number, PostRow>();
  readonly comments = new Map<number, CommentRow>();
  postsByAuthor = new Map<number, PostRow[]>();
  commentsByPost = new Map<number, CommentRow[]>();
  readonly #select: SelectIn;

  constructor(select: SelectIn) {
    super();
    this.#select = select;
  }

  author(id: number): Promise<AuthorRow> {
    return must(this.authors.get(id), `author ${id}`);
  }

  post(id: number): Promise<PostRow> {
    const p = this.posts.get(id);
    // Point lookups are not prefetched: each is its own statement, as in the set-wise floor.
    if (p === undefined && this.posts.size === 0) return this.#select<PostRow>('posts', 'id', [id]).then((rows) => must(rows[0], `post ${id}`));
    return must(p, `post ${id}`);
  }

  comment(id: number): Promise<CommentRow> {
    return must(this.comments.get(id), `comment ${id}`);
  }

  postsOf(a: AuthorRow): Promise<readonly PostRow[]> {
    return Promise.resolve(this.postsByAuthor.get(a.id) ?? []);
  }

  commentsOf(p: PostRow): Promise<readonly CommentRow[]> {
    return Promise.resolve(this.commentsByPost.get(p.id) ?? []);
  }

}

async function prefetch(req: MapReq, select: SelectIn, scenario: string, plans: Plans): Promise<void> {
  if (scenario === 'tree' || scenario === 'coldstart') {
    const authors = await select<AuthorRow>('authors', 'id', Array.from({ length: 100 }, (_, i) => i + 1));
    const posts = await select<PostRow>('posts', 'author_id', authors.map((a) => a.id));
    const comments = await select<CommentRow>('comments', 'post_id', posts.map((p) => p.id));
    for (const a of authors) req.authors.set(a.id, a);
    for (const p of posts) req.posts.set(p.id, p);
    for (const c of comments) req.comments.set(c.id, c);
    req.postsByAuthor = group(posts, (p) => p.author_id);
    req.commentsByPost = group(comments, (c) => c.post_id);
  } else if (scenario === 'batch') {
    const { held } = await setwiseBatch(select, plans.batch);
    const [authors, posts, comments] = held as [Map<number, AuthorRow>, Map<number, PostRow>, Map<number, CommentRow>];
    for (const [k, v] of authors) req.authors.set(k, v);
    for (const [k, v] of posts) req.posts.set(k, v);
    for (const [k, v] of comments) req.comments.set(k, v);
  }
}

export const floorResolvers: ImplFactory = async (spec): Promise<Impl> => {
  const { select, statements, close } = await openSelect(spec.cacheFile);
  return {
    async run(scenario, plans) {
      const req = new MapReq(select);
      await prefetch(req, select, scenario, plans);
      return runScenario(scenario, req, plans);
    },
    cacheStatements: statements,
    close,
  };
};
