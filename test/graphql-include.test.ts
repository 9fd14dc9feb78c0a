/**
 * graphqlInclude(schema, entity, info): the include tree a root resolver gets from its selection set,
 * checked with graphql-js executing real queries (the resolver's real `info`), no database needed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema, graphql, type GraphQLResolveInfo } from 'graphql';
import { graphqlInclude, openStore, sqliteOrigin } from 'asyncdbview';
import { openSqlite } from './helpers/sqlite.js';
import { tempDir } from './helpers/tmp.js';
import { blogSchema } from '../examples/blog-schema.js';
import { typeDefs } from '../examples/graphql/server.js';

const gqlSchema = buildSchema(typeDefs);

/** Runs `source` with root resolvers that record graphqlInclude's answer per response key (alias or name). */
async function includesOf(source: string, variableValues?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  const record = (entity: 'Author' | 'Post', many: boolean) => (_args: unknown, _ctx: unknown, info: GraphQLResolveInfo) => {
    seen[info.path.key as string] = graphqlInclude(blogSchema, entity, info);
    return many ? [] : null;
  };
  const result = await graphql({
    schema: gqlSchema,
    source,
    rootValue: { authors: record('Author', true), author: record('Author', false), post: record('Post', false) },
    ...(variableValues === undefined ? {} : { variableValues }),
  });
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return seen;
}

describe('graphqlInclude', () => {
  it('fields and nested lists: relations become the tree, columns and __typename are left out', async () => {
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { id name __typename posts { title comments { body likes } } } }'), {
      authors: { posts: { comments: true } },
    });
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { id name } }'), { authors: {} });
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { posts { id } } }'), { authors: { posts: true } });
  });

  it('deep trees, going back up relations, from another root entity', async () => {
    assert.deepEqual(await includesOf('{ post(id: 1) { author { posts { comments { post { author { name } } } } } comments { id } } }'), {
      post: { author: { posts: { comments: { post: { author: true } } } }, comments: true },
    });
  });

  it('aliases: a relation under any alias, the same relation twice merged; aliased roots each get their own', async () => {
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { writings: posts { t: title } again: posts { replies: comments { likes } } } }'), {
      authors: { posts: { comments: true } },
    });
    assert.deepEqual(await includesOf('{ a: authors(ids: [1]) { posts { id } } b: authors(ids: [2]) { name } }'), {
      a: { posts: true },
      b: {},
    });
    // The same root field twice without an alias is one field with both selection sets.
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { name } authors(ids: [1]) { posts { author { name } } } }'), {
      authors: { posts: { author: true } },
    });
  });

  it('named fragments, nested and at several levels, and inline fragments (with and without a type condition)', async () => {
    const source = `
      query {
        authors(ids: [1]) { ...AuthorFields posts { ...PostFields } }
      }
      fragment AuthorFields on Author { name posts { title } }
      fragment PostFields on Post { author { name } comments { ...CommentFields } }
      fragment CommentFields on Comment { body post { id } }
    `;
    assert.deepEqual(await includesOf(source), { authors: { posts: { author: true, comments: { post: true } } } });
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { ... on Author { posts { ... { comments { body } } } } } }'), {
      authors: { posts: { comments: true } },
    });
    assert.deepEqual(await includesOf('query { post(id: 1) { ...P } } fragment P on Post { ... on Post { author { ...A } } } fragment A on Author { posts { id } }'), {
      post: { author: { posts: true } },
    });
  });

  it('the tree it gives preloads the whole selection: the nested fields then read from memory', async () => {
    const seen = await includesOf('{ authors(ids: [1]) { posts { comments { post { title } } author { name } } } }');
    const tmp = tempDir();
    try {
      const origin = await openSqlite(tmp.file('origin.db'));
      await origin.exec(
        'CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);' +
          'CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author_id INTEGER NOT NULL, published INTEGER NOT NULL);' +
          'CREATE TABLE comments (id INTEGER PRIMARY KEY, body TEXT NOT NULL, post_id INTEGER NOT NULL, likes INTEGER NOT NULL);' +
          "INSERT INTO authors VALUES (1, 'Ann'); INSERT INTO posts VALUES (1, 'p1', 1, 0), (2, 'p2', 1, 0);" +
          "INSERT INTO comments VALUES (1, 'c1', 1, 0), (2, 'c2', 2, 0), (3, 'c3', 2, 0);",
      );
      await origin.close();
      await using store = await openStore(blogSchema, { origin: sqliteOrigin(tmp.file('origin.db')) });
      await using view = store.view();
      const [ann] = await view.Author.many([1], { include: seen.authors as never });
      const sent = store.stats.originQueries;
      const posts = await ann!.posts;
      const comments = await Promise.all(posts.map((p) => p.comments));
      assert.deepEqual(comments.map((cs) => cs.map((c) => c.body)), [['c1'], ['c2', 'c3']]);
      assert.equal(await (await comments[1]![0]!.post).author, ann);
      assert.equal(store.stats.originQueries, sent, 'every selected relation was preloaded');
    } finally {
      tmp.remove();
    }
  });

  it('@skip and @include, literal or variable, on fields, fragments and inline fragments: what GraphQL leaves out is not loaded', async () => {
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { posts @skip(if: true) { id } } }'), { authors: {} });
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { posts @include(if: false) { id } } }'), { authors: {} });
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { posts @skip(if: false) @include(if: true) { comments { id } } } }'), { authors: { posts: { comments: true } } });
    const q = 'query ($c: Boolean!, $s: Boolean!) { authors(ids: [1]) { posts { comments @include(if: $c) { id } ...P @skip(if: $s) ... @include(if: $c) { author { name } } } } } fragment P on Post { author { posts { id } } }';
    assert.deepEqual(await includesOf(q, { c: true, s: false }), { authors: { posts: { comments: true, author: { posts: true } } } });
    assert.deepEqual(await includesOf(q, { c: false, s: true }), { authors: { posts: true } });
    assert.deepEqual(await includesOf(q, { c: false, s: false }), { authors: { posts: { author: { posts: true } } } });
    // A field kept by one selection and skipped by another is loaded (GraphQL resolves it).
    assert.deepEqual(await includesOf('{ authors(ids: [1]) { posts @skip(if: true) { id } posts { title } } }'), { authors: { posts: true } });
  });

  it('a wrong entity or info is a TypeError', () => {
    assert.throws(() => graphqlInclude(blogSchema, 'Nope' as never, { fieldNodes: [], fragments: {} }), TypeError);
    assert.throws(() => graphqlInclude(blogSchema, 'Author', {} as never), TypeError);
  });
});
