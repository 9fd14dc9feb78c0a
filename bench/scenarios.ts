/**
 * The trials, written once against {@link Req}: the resolver-level face every per-row implementation gives
 * (naive, hand-written DataLoader, asyncdbview, MikroORM). The raw-SQLite floor and the plain-object memory
 * reference answer the same trials set-wise, in their own modules.
 */
import { AUTHORS, BATCH_STEPS, BATCH_TASKS, IdealBatches, Kind, type Outcome, type Plans, type ScenarioName } from './common.js';

export interface AuthorLike {
  readonly id: number;
}
export interface PostLike {
  readonly id: number;
}
export interface CommentLike {
  readonly id: number;
  readonly likes: number;
}

/** One unit of work (one GraphQL request, one job) of an implementation: what resolvers call. */
export interface Req<A extends AuthorLike = AuthorLike, P extends PostLike = PostLike, C extends CommentLike = CommentLike> {
  author(id: number): Promise<A>;
  post(id: number): Promise<P>;
  comment(id: number): Promise<C>;
  /** Author.posts */
  postsOf(a: A): Promise<readonly P[]>;
  /** Post.comments */
  commentsOf(p: P): Promise<readonly C[]>;
  /** Post.author */
  authorOf(p: P): Promise<A>;
  /** Comment.post */
  postOf(c: C): Promise<P>;
  /** The foreign keys, as the implementation holds them (used to note parent lookups for the ideal count). */
  authorIdOf(p: P): number;
  postIdOf(c: C): number;
  /** Ends the unit of work. */
  end(): void | Promise<void>;
}

/**
 * (a) The GraphQL-shaped tree, resolved field by field the way graphql-js runs resolvers: Query.authors,
 * then each author's Author.posts as it resolves, each post's Post.comments, each comment's Comment.post.
 */
export async function tree(req: Req): Promise<Outcome> {
  const ids = Array.from({ length: AUTHORS }, (_, i) => i + 1);
  let sum = 0;
  let rows = 0;
  await Promise.all(
    ids.map(async (id) => {
      const a = await req.author(id);
      sum += a.id;
      rows++;
      const posts = await req.postsOf(a);
      await Promise.all(
        posts.map(async (p) => {
          sum += p.id;
          rows++;
          const comments = await req.commentsOf(p);
          await Promise.all(
            comments.map(async (c) => {
              const back = await req.postOf(c);
              if (back.id !== p.id) throw new Error(`comment ${c.id}: post ${back.id}, expected ${p.id}`);
              sum += c.id + c.likes + back.id;
              rows++;
            }),
          );
        }),
      );
    }),
  );
  return { rows, checksum: sum };
}

/** (b) The batch job: 10,000 lookups of random entities and their parents, from 1,000 concurrent tasks. */
export async function batch(req: Req, plan: Int32Array): Promise<Outcome> {
  const ideal = new IdealBatches();
  const distinct = new Set<number>();
  let sum = 0;
  const author = (id: number) => {
    ideal.note(Kind.Author, id);
    distinct.add(id);
    return req.author(id);
  };
  const post = (id: number) => {
    ideal.note(Kind.Post, id);
    distinct.add(1e6 + id);
    return req.post(id);
  };
  const comment = (id: number) => {
    ideal.note(Kind.Comment, id);
    distinct.add(2e6 + id);
    return req.comment(id);
  };
  const parentOfPost = (p: PostLike) => {
    const id = req.authorIdOf(p);
    ideal.note(Kind.Author, id);
    distinct.add(id);
    return req.authorOf(p);
  };
  const parentOfComment = (c: CommentLike) => {
    const id = req.postIdOf(c);
    ideal.note(Kind.Post, id);
    distinct.add(1e6 + id);
    return req.postOf(c);
  };
  await Promise.all(
    Array.from({ length: BATCH_TASKS }, async (_, task) => {
      for (let step = 0; step < BATCH_STEPS; step++) {
        const i = 2 * (task * BATCH_STEPS + step);
        const kind = plan[i] as Kind;
        const key = plan[i + 1] as number;
        // (Never `sum += await …`: that reads `sum` before the await and loses the other tasks' additions.)
        if (kind === Kind.Author) {
          const a = await author(key);
          sum += a.id;
        } else if (kind === Kind.Post) {
          const p = await post(key);
          const a = await parentOfPost(p);
          sum += p.id + a.id;
        } else {
          const c = await comment(key);
          const p = await parentOfComment(c);
          const a = await parentOfPost(p);
          sum += c.id + c.likes + p.id + a.id;
        }
      }
    }),
  );
  return { rows: distinct.size, checksum: sum, ideal: ideal.statements };
}

/** (c) Point lookups one at a time: 200 sequential awaits of a post by key. */
export async function point(req: Req, ids: readonly number[]): Promise<Outcome> {
  let sum = 0;
  for (const id of ids) {
    const p = await req.post(id);
    sum += p.id;
  }
  return { rows: ids.length, checksum: sum };
}

/** Runs a scenario on a fresh unit of work; (d) cold start runs the tree in a process just started. */
export async function runScenario(scenario: ScenarioName, req: Req, plans: Plans): Promise<Outcome> {
  try {
    switch (scenario) {
      case 'tree':
      case 'coldstart':
        return await tree(req);
      case 'batch':
        return await batch(req, plans.batch);
      case 'point':
        return await point(req, plans.point);
    }
  } finally {
    await req.end();
  }
}
