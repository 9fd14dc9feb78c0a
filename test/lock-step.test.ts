/**
 * Many concurrent callers asking for different kinds at once: a view dispatches all its loaders in one
 * window and answers them together, so callers stay in step and each round of new keys costs one origin
 * statement per kind (the lock-step count), not one per caller drifting out of step.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mode, mysqlOrigin, openStore } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { blogSchema } from '../examples/blog-schema.js';
import { blogTables } from './helpers/blog.js';
import { countSelects, createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';

const skip = await mysqlSkipReason();

const AUTHORS = 10;
const POSTS_PER_AUTHOR = 4;
const COMMENTS_PER_POST = 3;
const POSTS = AUTHORS * POSTS_PER_AUTHOR;
const COMMENTS = POSTS * COMMENTS_PER_POST;
const postAuthor = (p: number) => Math.ceil(p / POSTS_PER_AUTHOR);
const commentPost = (c: number) => Math.ceil(c / COMMENTS_PER_POST);

type Step = readonly [kind: 0 | 1 | 2, key: number];

/** A seeded plan: each task looks up random entities of random kinds, then their parents. */
function plan(tasks: number, steps: number, seed: number): Step[][] {
  let a = seed;
  const rand = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  return Array.from({ length: tasks }, () =>
    Array.from({ length: steps }, (): Step => {
      const kind = Math.floor(rand() * 3) as 0 | 1 | 2;
      return [kind, 1 + Math.floor(rand() * [AUTHORS, POSTS, COMMENTS][kind]!)];
    }),
  );
}

/**
 * The statements if every round resolved together: each round, every task asks for its next lookup not
 * answered yet (answered ones resolve at once), and a round costs one statement per kind it asks for.
 */
function lockStep(tasks: readonly Step[][]): number {
  const chains = tasks.map((steps) =>
    steps.flatMap(([kind, key]): Step[] =>
      kind === 0 ? [[0, key]] : kind === 1 ? [[1, key], [0, postAuthor(key)]] : [[2, key], [1, commentPost(key)], [0, postAuthor(commentPost(key))]],
    ),
  );
  const known = [new Set<number>(), new Set<number>(), new Set<number>()];
  const at = chains.map(() => 0);
  let statements = 0;
  for (;;) {
    const round = [new Set<number>(), new Set<number>(), new Set<number>()];
    chains.forEach((chain, t) => {
      while (at[t]! < chain.length) {
        const [kind, key] = chain[at[t]!]!;
        if (!known[kind]!.has(key)) {
          round[kind]!.add(key);
          return;
        }
        at[t]!++;
      }
    });
    if (round.every((r) => r.size === 0)) return statements;
    round.forEach((keys, kind) => {
      if (keys.size > 0) statements++;
      for (const k of keys) known[kind]!.add(k);
    });
  }
}

describe('lock-step batching across kinds', { skip }, () => {
  let db: TestDb;
  const tmp = tempDir();
  before(async () => {
    db = await createTestDb(...blogTables(AUTHORS, POSTS_PER_AUTHOR, COMMENTS_PER_POST));
  });
  after(async () => {
    await db.drop();
    tmp.remove();
  });

  for (const mode of [Mode.FRESHEN, Mode.PREFER_CACHE]) {
    it(`200 tasks of random chains cost the lock-step count of statements (${mode})`, async () => {
      const tasks = plan(200, 4, 7);
      const expected = lockStep(tasks);
      // Sanity: the plan is one where drifting callers would cost more than one round per level.
      assert.ok(expected >= 6 && expected < 40, `plan's lock-step count ${expected}`);
      await using store = await openStore(blogSchema, { origin: mysqlOrigin(db.url), cache: testCache(tmp.file(`lock-${mode}.db`)), mode });
      await using view = store.view();
      let sum = 0;
      const { selects } = await countSelects(db, () =>
        Promise.all(
          tasks.map(async (steps) => {
            for (const [kind, key] of steps) {
              if (kind === 0) {
                const a = await view.Author(key);
                sum += a.id;
              } else if (kind === 1) {
                const p = await view.Post(key);
                const a = await p.author;
                assert.equal(a.id, postAuthor(key));
                sum += p.id + a.id;
              } else {
                const c = await view.Comment(key);
                const p = await c.post;
                const a = await p.author;
                assert.equal(p.id, commentPost(key));
                sum += c.id + p.id + a.id;
              }
            }
          }),
        ),
      );
      assert.equal(selects, expected);
      assert.equal(store.stats.originQueries, expected);
      const want = tasks.flat().reduce((s, [kind, key]) => s + (kind === 0 ? key : kind === 1 ? key + postAuthor(key) : key + commentPost(key) + postAuthor(commentPost(key))), 0);
      assert.equal(sum, want);
    });
  }

  it('an answer the view already has does not wait for the lookups batched with it', async () => {
    await using store = await openStore(blogSchema, { origin: mysqlOrigin(db.url), mode: Mode.FRESHEN });
    await using view = store.view();
    const [a1, a2] = await Promise.all([view.Author(1), view.Author(2)]);
    const posts = await a1.posts;
    // Each answer at hand is asked together with a lookup of the same loader that needs the origin: it
    // must come back first, not when the origin has answered the other.
    const { selects, value } = await countSelects(db, async () => {
      const order: string[] = [];
      await Promise.all([
        view.Author(9).then(() => order.push('author 9')),
        a2.posts.then(() => order.push('author 2 posts')),
        view.Author(1).then(() => order.push('author 1')),
        a1.posts.then(() => order.push('author 1 posts')),
        posts[0]!.author.then(() => order.push('post.author')),
      ]);
      return order;
    });
    assert.equal(selects, 2);
    assert.deepEqual(value.slice(0, 3), ['author 1', 'author 1 posts', 'post.author']);
    assert.deepEqual(new Set(value.slice(3)), new Set(['author 9', 'author 2 posts']));
    assert.equal(await a1.posts, posts);
    assert.equal(await posts[0]!.author, a1);
  });

  it('a cached answer asked again in a later tick joins the next round, not a round of its own', async () => {
    await using store = await openStore(blogSchema, { origin: mysqlOrigin(db.url), mode: Mode.FRESHEN });
    await using view = store.view();
    // Task A re-reads a post it already has before asking for an author; task B asks for an author at once.
    // Both authors must travel in one statement.
    const { selects } = await countSelects(db, () =>
      Promise.all([
        (async () => {
          await view.Post(1);
          await view.Post(1);
          await view.Post(1);
          return view.Author(5);
        })(),
        (async () => {
          await view.Post(2);
          return view.Author(6);
        })(),
      ]),
    );
    assert.equal(selects, 2);
  });
});
