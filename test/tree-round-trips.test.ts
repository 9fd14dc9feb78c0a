/**
 * Origin round trips of include trees, counted on the wire: every store here reaches MariaDB through a
 * CountingProxy (a real TCP hop), which records each command a client sends after the handshake.
 *
 * Connection setup: mysqlOrigin's own pools run `SET SESSION TRANSACTION READ ONLY` once on every new
 * connection (a round trip of its own, before the first statement on it), and the tree pool is a second
 * pool, opened on the first tree load. So each measuring store is warmed first (`store.warmUp()`, which
 * connects both pools and sends no statement), and then **every** command in the measured window is
 * counted, none filtered out: a statement the library sent that we did not expect fails the count. (Counting
 * only SELECT / START TRANSACTION packets would hide such a statement.) The cold case, setup included, has
 * a test of its own below.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2';
import { Mode, mysqlOrigin, openStore, type QueryEvent } from 'asyncdbview';
import { testCache } from './helpers/cache-driver.js';
import { CountingProxy, inListSizes, isSessionSetup, SESSION_SETUP_STATEMENTS, statementsOf, type ClientCommand } from './helpers/counting-proxy.js';
import { countSelects, createTestDb, MYSQL_HOST, MYSQL_PASSWORD, MYSQL_PORT, MYSQL_USER, mysqlSkipReason, type TestDb } from './helpers/mysql.js';
import { tempDir } from './helpers/tmp.js';
import { snapshot, WIDE_TABLES, wideSchema } from './helpers/wide.js';

const skip = await mysqlSkipReason();

/** Three levels below the authors: posts → comments → users. */
const CHAIN = { posts: { comments: { user: true } } } as const;
/** Authors with posts (author 3 has none: the warm-up uses it, so the measured keys stay out of the cache). */
const ROOTS = [1, 2, 4, 5, 6];
/** The table a single SELECT reads, or of each statement of a tree packet (START TRANSACTION … COMMIT). */
const tableOf = (sql: string) => /^SELECT .*? FROM `(\w+)`/s.exec(sql)?.[1] ?? sql.slice(0, 20);
const describeCommands = (cs: readonly ClientCommand[]) => cs.map((c) => `#${c.connection} ${c.name} ${(c.sql ?? '').slice(0, 90)}`).join('\n');
const TREE_HEAD = 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY';

describe('include trees: origin round trips counted at a TCP proxy', { skip }, () => {
  let db: TestDb;
  let proxy: CountingProxy;
  const tmp = tempDir();
  let n = 0;
  before(async () => {
    db = await createTestDb(...WIDE_TABLES);
    proxy = new CountingProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    await proxy.listen();
  });
  after(async () => {
    await proxy.close();
    await db.drop();
    tmp.remove();
  });

  const viaProxy = () => mysqlOrigin({ host: '127.0.0.1', port: proxy.port, user: MYSQL_USER, password: MYSQL_PASSWORD, database: db.name });
  const open = (mode: Mode, options: { batchSize?: number; originConcurrency?: number; file?: string } = {}) =>
    openStore(wideSchema, { origin: viaProxy(), cache: testCache(options.file ?? tmp.file(`trips-${++n}.db`)), mode, ...options });

  /** Connects both of the origin's pools (lookups, trees), so connection setup stays out of the counts. */
  async function warm(store: { warmUp(): Promise<void> }): Promise<void> {
    await store.warmUp();
  }

  /** The commands `fn` sent, all of them (see the file comment). */
  async function onWire<T>(fn: () => Promise<T>): Promise<{ value: T; sent: ClientCommand[] }> {
    const mark = proxy.mark();
    const value = await fn();
    return { value, sent: proxy.roundTripsSince(mark) };
  }

  it("a cold three-level tree (FRESHEN): one round trip below the roots with strategy 'tree', three with 'levels'", async () => {
    const answers: Record<string, unknown> = {};
    for (const strategy of ['tree', 'levels'] as const) {
      await using store = await open(Mode.FRESHEN);
      await warm(store);
      await using view = store.view();
      const roots = await onWire(() => view.Author.many(ROOTS));
      assert.equal(roots.sent.length, 1, `${strategy}: the roots, one statement:\n${describeCommands(roots.sent)}`);
      const trips0 = store.stats.originRoundTrips;
      const queries0 = store.stats.originQueries;
      const cache: string[] = [];
      const onQuery = (e: QueryEvent) => {
        if (e.target === 'cache') cache.push(e.sql.trim());
      };
      await store.flush(); // the roots' cache write is not this step's
      store.on('query', onQuery);
      const { sent } = await onWire(() => view.preload(roots.value, CHAIN, { strategy }));
      await store.flush(); // answers are given before their cache write commits: count the write with its step
      store.off('query', onQuery);
      // Rows and marks of every level in one cache transaction (tree); level by level, one merge per level, which
      // group commit may join into fewer transactions (a store alone on its file takes no claims in between).
      const transactions: string[][] = [];
      for (const sql of cache) {
        if (sql.startsWith('BEGIN')) transactions.push([]);
        else if (!sql.startsWith('COMMIT')) transactions.at(-1)?.push(sql);
      }
      assert.ok(cache.filter((sql) => /^(INSERT|DELETE|UPDATE)\b/.test(sql)).every((sql) => transactions.some((t) => t.includes(sql))), 'no write outside a transaction');
      const merges = transactions.filter((t) => t.some((sql) => sql.startsWith('INSERT INTO ever_loaded')));
      if (strategy === 'tree') assert.equal(merges.length, 1, `${strategy}: transactions writing rows and marks`);
      else assert.ok(merges.length >= 1 && merges.length <= 3, `${strategy}: transactions writing rows and marks: ${merges.length}`);
      const tablesWritten = (t: string[]) => t.flatMap((sql) => /^INSERT INTO "(\w+)"/.exec(sql)?.[1] ?? []);
      assert.deepEqual(merges.flatMap(tablesWritten), ['post', 'comment', 'usr']);
      if (strategy === 'tree') {
        assert.equal(merges[0]!.filter((sql) => sql.startsWith('INSERT INTO ever_loaded')).length, 3, 'the marks of all three levels');
        assert.equal(sent.length, 1, `tree: one round trip below the roots:\n${describeCommands(sent)}`);
        const statements = statementsOf(sent[0]!.sql ?? '');
        assert.equal(statements[0], TREE_HEAD);
        assert.deepEqual(statements.slice(1, -1).map(tableOf), ['post', 'comment', 'usr'], 'every level in the one packet');
        assert.equal(statements.at(-1), 'COMMIT');
      } else {
        assert.equal(sent.length, 3, `levels: one round trip per level:\n${describeCommands(sent)}`);
        assert.deepEqual(sent.map((c) => tableOf(c.sql ?? '')), ['post', 'comment', 'usr']);
        assert.ok(sent.every((c) => !(c.sql ?? '').includes(';')), 'one statement each');
      }
      assert.equal(store.stats.originRoundTrips - trips0, sent.length, `${strategy}: stats.originRoundTrips agrees with the wire`);
      assert.equal(store.stats.originQueries - queries0, 3, `${strategy}: three levels, three statements`);
      const read = await onWire(() => snapshot('Author', roots.value, CHAIN));
      assert.equal(read.sent.length, 0, `${strategy}: awaiting the preloaded tree sends nothing`);
      answers[strategy] = read.value;

      // many(keys, { include }) in one call: with 'tree', the roots travel in the tree's own round trip.
      await using again = store.view();
      const both = await onWire(() => again.Author.many(ROOTS, { include: CHAIN, strategy }));
      assert.equal(both.sent.length, strategy === 'tree' ? 1 : 4, `${strategy}: many() with include:\n${describeCommands(both.sent)}`);
      if (strategy === 'tree') {
        assert.deepEqual(statementsOf(both.sent[0]!.sql ?? '').slice(1, -1).map(tableOf), ['author', 'post', 'comment', 'usr'], 'the roots are the first level');
      }
      assert.deepEqual(await snapshot('Author', both.value, CHAIN), read.value);
    }
    assert.deepEqual(answers.tree, answers.levels);
  });

  it('cold, with connection setup: only the SET statements of each new connection come on top of the tree', async () => {
    const connections0 = proxy.connections;
    await using store = await open(Mode.FRESHEN);
    await using view = store.view();
    const { sent } = await onWire(() => view.Author.many(ROOTS, { include: CHAIN }));
    const opened = proxy.connections - connections0;
    const setup = sent.filter((c) => isSessionSetup(c.sql));
    const work = sent.filter((c) => !isSessionSetup(c.sql));
    assert.equal(opened, 1, 'the store opened one connection, of the tree pool (the roots travel with the tree)');
    assert.equal(setup.length, opened * SESSION_SETUP_STATEMENTS.length, `the setup statements once per new connection:\n${describeCommands(sent)}`);
    for (const s of setup) {
      const first = sent.filter((c) => c.connection === s.connection).slice(0, SESSION_SETUP_STATEMENTS.length);
      assert.deepEqual(first.map((c) => c.sql), SESSION_SETUP_STATEMENTS, 'the first commands on its connection');
    }
    assert.deepEqual(work.map((c) => (c.sql?.startsWith(TREE_HEAD) ? 'tree' : tableOf(c.sql ?? ''))), ['tree']);
    assert.equal(store.stats.originRoundTrips, 1, 'the store does not count connection setup');

    // A lookup then opens the lookups pool's first connection: again its setup before it.
    const more = await onWire(() => view.Author(99).catch(() => null));
    assert.equal(proxy.connections - connections0, 2, 'one connection per pool');
    assert.deepEqual(more.sent.map((c) => (isSessionSetup(c.sql) ? 'setup' : tableOf(c.sql ?? ''))), [...SESSION_SETUP_STATEMENTS.map(() => 'setup'), 'author']);
  });

  it('PREFER_CACHE, posts complete in the cache and comments not: the origin gets only comments and users, in one round trip', async () => {
    const file = tmp.file(`trips-${++n}.db`);
    await using store = await open(Mode.PREFER_CACHE, { file });
    {
      await using view = store.view();
      await view.Author.many([1, 2], { include: { posts: true } }); // level 1 complete for authors 1 and 2 (and warms both pools)
    }
    await using view = store.view();
    const lookups0 = { ...store.stats.lookups['Author.posts']! };
    const { value: roots, sent } = await onWire(() => view.Author.many([1, 2], { include: CHAIN }));
    assert.equal(sent.length, 1, `the roots and posts from the cache, the rest in one round trip:\n${describeCommands(sent)}`);
    const statements = statementsOf(sent[0]!.sql ?? '');
    assert.equal(statements[0], TREE_HEAD);
    assert.deepEqual(statements.slice(1, -1).map(tableOf), ['comment', 'usr'], 'no statement reads posts');
    assert.match(statements[1]!, /WHERE t0\.`post_id` IN \(11, 12, 10, 20\)/, "comments by the cached posts' keys, bound");
    assert.match(statements[2]!, /IN \(SELECT t0\.`user_id` FROM `comment` t0/, 'users derived at the origin from the comments');
    assert.deepEqual(store.stats.lookups['Author.posts'], { hits: lookups0.hits + 2, misses: lookups0.misses });

    // Authors 1, 2 have posts cached, 4, 5, 6 not: their posts are asked (only theirs), with everything below, still in one round trip.
    await using mixed = store.view();
    const wider = await onWire(() => mixed.Author.many(ROOTS, { include: CHAIN }));
    assert.equal(wider.sent.length, 1, `one round trip, the uncached roots included:\n${describeCommands(wider.sent)}`);
    const tree = statementsOf(wider.sent[0]!.sql ?? '');
    assert.equal(tree[0], TREE_HEAD);
    const authors = tree.filter((s) => tableOf(s) === 'author');
    assert.equal(authors.length, 1, 'authors 4, 5, 6 are not cached: one level of roots');
    assert.match(authors[0]!, /WHERE t\d+\.`id` IN \(4, 5, 6\)$/);
    const posts = tree.filter((s) => tableOf(s) === 'post');
    assert.equal(posts.length, 1);
    assert.match(posts[0]!, /WHERE t\d+\.`author_id` IN \(SELECT t\d+\.`id` FROM `author` t\d+ WHERE t\d+\.`id` IN \(4, 5, 6\)\)/, 'posts only of the authors whose posts the cache lacks, keyed at the origin');

    // Everything is complete now: the whole tree from the cache.
    await using warmView = store.view();
    const none = await onWire(() => warmView.Author.many(ROOTS, { include: CHAIN }));
    assert.equal(none.sent.length, 0, describeCommands(none.sent));
    assert.deepEqual(await snapshot('Author', none.value, CHAIN), await snapshot('Author', wider.value, CHAIN));
    assert.deepEqual(await snapshot('Author', roots, CHAIN), (await snapshot('Author', none.value, CHAIN)).slice(0, 2));
  });

  it('batchSize 2 and five roots: still one round trip for the tree, and no statement binds more than 2 keys', async () => {
    await using store = await open(Mode.FRESHEN, { batchSize: 2, originConcurrency: 1 });
    await warm(store);
    const events: QueryEvent[] = [];
    store.on('query', (e: QueryEvent) => {
      if (e.target === 'origin') events.push(e);
    });
    await using view = store.view();
    const roots = await onWire(() => view.Author.many(ROOTS));
    assert.equal(roots.sent.length, 3, 'the roots: 2 + 2 + 1 keys');
    assert.deepEqual(roots.sent.map((c) => inListSizes(c.sql ?? '')), [[2], [2], [1]]);
    assert.deepEqual(events.map((e) => e.params), [2, 2, 1], 'query events: at most 2 keys each');

    events.length = 0;
    const { sent } = await onWire(() => view.preload(roots.value, CHAIN, { strategy: 'tree' }));
    assert.equal(sent.length, 1, `one round trip for the whole tree:\n${describeCommands(sent)}`);
    const sizes = inListSizes(sent[0]!.sql ?? '');
    assert.ok(sizes.length >= 3 && Math.max(...sizes) <= 2, `every bound key list has at most 2 keys: ${sizes.join(', ')}`);
    assert.deepEqual(statementsOf(sent[0]!.sql ?? '').slice(1, -1).map(tableOf), ['post', 'comment', 'usr', 'post', 'comment', 'usr', 'post', 'comment', 'usr'],
      'one subtree per chunk of roots, all in the one packet');
    assert.equal(events.length, 1, 'one query event for the packet');
    assert.equal(events[0]!.params, sizes.reduce((a, b) => a + b, 0), 'its params are the keys bound, all lists of at most 2');

    // Level by level, the same batch size splits every level's statements.
    await using levels = store.view();
    const r = await levels.Author.many(ROOTS);
    events.length = 0;
    const byLevel = await onWire(() => levels.preload(r, CHAIN, { strategy: 'levels' }));
    assert.ok(events.length > 3 && events.every((e) => e.params <= 2), `levels: ${events.map((e) => e.params).join(', ')}`);
    assert.ok(byLevel.sent.every((c) => inListSizes(c.sql ?? '').every((s) => s <= 2)));
    assert.deepEqual(await snapshot('Author', r, CHAIN), await snapshot('Author', roots.value, CHAIN));
  });

  it('store.warmUp() connects both pools (8 lookup connections, 2 for trees), each set up, and sends no statement', async () => {
    await using store = await open(Mode.FRESHEN);
    const connections0 = proxy.connections;
    const { sent, value: selects } = await onWire(() => countSelects(db, () => store.warmUp()));
    assert.equal(proxy.connections - connections0, 10);
    assert.equal(sent.filter((c) => isSessionSetup(c.sql)).length, 10 * SESSION_SETUP_STATEMENTS.length, describeCommands(sent));
    assert.ok(sent.every((c) => isSessionSetup(c.sql) || c.name === 'COM_PING'), `only setup and pings:\n${describeCommands(sent)}`);
    assert.equal(selects.selects, 0, 'no SELECT');
    await using view = store.view();
    const after = await onWire(() => Promise.all([view.Author(1), view.Author.many(ROOTS, { include: CHAIN })]));
    assert.equal(after.sent.length, 2, `a lookup and a tree, no setup:\n${describeCommands(after.sent)}`);
    assert.equal(store.stats.originRoundTrips, 2);
  });

  it('a belongsTo back to the level above (Post.comments, then Comment.post) is not fetched again: its targets are that level', async () => {
    await using store = await open(Mode.FRESHEN);
    await warm(store);
    await using view = store.view();
    const { value: authors, sent } = await onWire(() => view.Author.many(ROOTS, { include: { posts: { comments: { post: true, user: true } } } }));
    assert.equal(sent.length, 1, describeCommands(sent));
    assert.deepEqual(statementsOf(sent[0]!.sql ?? '').slice(1, -1).map(tableOf), ['author', 'post', 'comment', 'usr'], 'no second read of posts');
    const read = await onWire(async () => {
      let n = 0;
      for (const a of authors) {
        for (const p of await a.posts) {
          for (const c of await p.comments) {
            assert.equal(await c.post, p, 'the comment\'s post is the very object it was reached from');
            n++;
          }
        }
      }
      return n;
    });
    assert.ok(read.value > 0, 'the data has comments');
    assert.equal(read.sent.length, 0, 'reading the tree sends nothing');
  });

  it('many(keys, { include }) in one trip: missing roots reject with NotFoundError naming them, or give null with nullForMissing', async () => {
    await using store = await open(Mode.FRESHEN);
    await warm(store);
    await using view = store.view();
    const rejected = await onWire(() => view.Author.many([1, 998, 2, 999], { include: CHAIN }).then(() => null, (e: unknown) => e));
    assert.equal(rejected.sent.length, 1);
    assert.ok(rejected.value instanceof Error && rejected.value.name === 'NotFoundError', String(rejected.value));
    assert.match((rejected.value as Error).message, /998/);
    assert.match((rejected.value as Error).message, /999/);
    const nulls = await onWire(() => view.Author.many([1, 998, 2], { include: CHAIN, nullForMissing: true }));
    assert.equal(nulls.sent.length, 0, 'the view knows them all now (two found, one absent)');
    assert.deepEqual(nulls.value.map((a) => a?.id ?? null), [1, null, 2]);
    assert.ok((await nulls.value[0]!.posts).length > 0);
    // One key with include, as `view.X(key, { include })`: the same one round trip, and the same error.
    await using other = store.view();
    const one = await onWire(() => other.Author(997, { include: CHAIN }).then(() => null, (e: unknown) => e));
    assert.equal(one.sent.length, 1);
    assert.ok(one.value instanceof Error && one.value.name === 'NotFoundError');
  });

  it('a caller-passed mysql2 pool: level by level (no multi-statement packet), same answers, and stats that say so', async () => {
    const pool = mysql.createPool({ host: '127.0.0.1', port: proxy.port, user: MYSQL_USER, password: MYSQL_PASSWORD, database: db.name, connectionLimit: 2 });
    try {
      await using store = await openStore(wideSchema, { origin: mysqlOrigin(pool), cache: testCache(tmp.file(`trips-${++n}.db`)), mode: Mode.FRESHEN });
      await warm(store);
      await using view = store.view();
      const roots = await view.Author.many(ROOTS);
      const trips0 = store.stats.originRoundTrips;
      const { sent } = await onWire(() => view.preload(roots, CHAIN, { strategy: 'tree' }));
      const trips = store.stats.originRoundTrips - trips0;
      assert.deepEqual(sent.map((c) => tableOf(c.sql ?? '')), ['post', 'comment', 'usr'], `one statement per level:\n${describeCommands(sent)}`);
      assert.ok(sent.every((c) => !(c.sql ?? '').includes(';') && !(c.sql ?? '').startsWith('START')), 'no multi-statement packet on a caller pool');
      // A caller's pool cannot be given multiple statements, so the tree is loaded level by level there:
      // each level binds the keys the level above returned.
      assert.match(sent[2]!.sql ?? '', /FROM `usr` t WHERE t\.`id` IN \(/, 'the last level binds the keys the level above returned');
      const answer = await snapshot('Author', roots, CHAIN);

      await using byLevels = store.view();
      const r2 = await byLevels.Author.many(ROOTS, { include: CHAIN, strategy: 'levels' });
      assert.deepEqual(await snapshot('Author', r2, CHAIN), answer, 'the same answers as level by level');
      assert.equal(trips, sent.length, 'stats.originRoundTrips counts the round trips the wire carried');
    } finally {
      await new Promise<void>((resolve) => pool.end(() => resolve()));
    }
  });
});
