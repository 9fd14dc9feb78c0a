/**
 * The trials answered set-wise, with no per-row resolver in between: one IN-statement per level. The
 * raw-SQLite floor runs them on the cache file, the plain-object memory reference on the origin.
 */
import { AUTHORS, Kind, type Outcome } from './common.js';

export interface AuthorRow {
  readonly id: number;
  readonly name: string;
}
export interface PostRow {
  readonly id: number;
  readonly title: string;
  readonly author_id: number;
  readonly published: unknown;
}
export interface CommentRow {
  readonly id: number;
  readonly body: string;
  readonly post_id: number;
  readonly likes: number;
}

/**
 * The part of the resolver face every implementation over plain rows shares: parents through the by-key
 * lookups, foreign keys read off the rows, nothing to end.
 */
export abstract class RowReq {
  abstract author(id: number): Promise<AuthorRow>;
  abstract post(id: number): Promise<PostRow>;

  authorOf(p: PostRow): Promise<AuthorRow> {
    return this.author(p.author_id);
  }

  postOf(c: CommentRow): Promise<PostRow> {
    return this.post(c.post_id);
  }

  authorIdOf(p: PostRow): number {
    return p.author_id;
  }

  postIdOf(c: CommentRow): number {
    return c.post_id;
  }

  end(): void {}
}

/** Reads the rows of `table` whose `column` is one of `keys`: one statement. */
export type SelectIn = <T>(table: 'authors' | 'posts' | 'comments', column: 'id' | 'author_id' | 'post_id', keys: readonly number[]) => Promise<T[]>;

function group<T>(rows: readonly T[], fk: (row: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const row of rows) {
    const k = fk(row);
    const list = out.get(k);
    if (list === undefined) out.set(k, [row]);
    else list.push(row);
  }
  return out;
}

/** The tree in three statements (authors, their posts, the posts' comments), then grouped in memory. */
export async function setwiseTree(select: SelectIn): Promise<Outcome> {
  const ids = Array.from({ length: AUTHORS }, (_, i) => i + 1);
  const authors = await select<AuthorRow>('authors', 'id', ids);
  const posts = await select<PostRow>('posts', 'author_id', authors.map((a) => a.id));
  const comments = await select<CommentRow>('comments', 'post_id', posts.map((p) => p.id));
  const postsByAuthor = group(posts, (p) => p.author_id);
  const commentsByPost = group(comments, (c) => c.post_id);
  const postById = new Map(posts.map((p) => [p.id, p]));
  let sum = 0;
  let rows = 0;
  for (const a of authors) {
    sum += a.id;
    rows++;
    for (const p of postsByAuthor.get(a.id) ?? []) {
      sum += p.id;
      rows++;
      for (const c of commentsByPost.get(p.id) ?? []) {
        const back = postById.get(c.post_id) as PostRow;
        sum += c.id + c.likes + back.id;
        rows++;
      }
    }
  }
  return { rows, checksum: sum };
}

/**
 * The batch job's rows in three statements: the comments asked for, then the posts asked for or holding
 * those comments, then the authors asked for or writing those posts; the lookups are answered from maps.
 * Returns the maps too, so a caller can hold the rows.
 */
export async function setwiseBatch(select: SelectIn, plan: Int32Array): Promise<Outcome & { held: unknown[] }> {
  const keys: Set<number>[] = [new Set(), new Set(), new Set()];
  for (let i = 0; i < plan.length; i += 2) (keys[plan[i] as Kind] as Set<number>).add(plan[i + 1] as number);
  const comments = new Map((await select<CommentRow>('comments', 'id', [...(keys[Kind.Comment] as Set<number>)])).map((c) => [c.id, c]));
  const postKeys = keys[Kind.Post] as Set<number>;
  for (const c of comments.values()) postKeys.add(c.post_id);
  const posts = new Map((await select<PostRow>('posts', 'id', [...postKeys])).map((p) => [p.id, p]));
  const authorKeys = keys[Kind.Author] as Set<number>;
  for (const p of posts.values()) authorKeys.add(p.author_id);
  const authors = new Map((await select<AuthorRow>('authors', 'id', [...authorKeys])).map((a) => [a.id, a]));
  const get = <T>(map: Map<number, T>, key: number): T => {
    const row = map.get(key);
    if (row === undefined) throw new Error(`row ${key} missing`);
    return row;
  };
  let sum = 0;
  for (let i = 0; i < plan.length; i += 2) {
    const kind = plan[i] as Kind;
    const key = plan[i + 1] as number;
    if (kind === Kind.Author) sum += get(authors, key).id;
    else if (kind === Kind.Post) {
      const p = get(posts, key);
      sum += p.id + get(authors, p.author_id).id;
    } else {
      const c = get(comments, key);
      const p = get(posts, c.post_id);
      sum += c.id + c.likes + p.id + get(authors, p.author_id).id;
    }
  }
  return { rows: authors.size + posts.size + comments.size, checksum: sum, held: [authors, posts, comments] };
}

/** Point lookups: one single-key statement per await, in sequence. */
export async function setwisePoint(select: SelectIn, ids: readonly number[]): Promise<Outcome> {
  let sum = 0;
  for (const id of ids) {
    const [p] = await select<PostRow>('posts', 'id', [id]);
    if (p === undefined) throw new Error(`post ${id} missing`);
    sum += p.id;
  }
  return { rows: ids.length, checksum: sum };
}
