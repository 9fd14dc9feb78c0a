/**
 * GraphQL over the blog schema on a standard stack: graphql-js, graphql-http's Node handler, node:http.
 * One asyncdbview view per request, made in the handler's context function and closed once the response
 * is sent. The resolvers stay one line each: a root resolver turns its selection set into an include tree
 * (`graphqlInclude`) and preloads it, so over a MySQL/MariaDB origin a whole response takes one origin
 * round trip however deep it goes — the roots and every level below in one packet — and the nested
 * resolvers read from memory (over a SQLite origin the levels are read one statement each). A root that
 * does not exist (`author(id: 999)`) resolves to null, as GraphQL clients expect of a nullable field.
 *
 * Run it with nothing set up (`npm run example:graphql`): without MYSQL_URL it serves a blog it writes to
 * a SQLite origin file (.demo/graphql-origin.db, as the demo does); with MYSQL_URL it reads that MySQL
 * database's authors, posts and comments tables. MODE picks the store's mode (PREFER_CACHE by default,
 * what a production server runs; FRESHEN, OFFLINE_FALLBACK or OFFLINE), CACHE the cache file, PORT the port:
 *   curl -H 'content-type: application/json' -d '{"query":"{ authors(ids: [1, 2]) { name posts { title } } }"}' localhost:4000/graphql
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { buildSchema, GraphQLObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/http';
import { graphqlInclude, Mode, mysqlOrigin, openStore, sqliteCache, sqliteOrigin, type EntityOf, type View } from 'asyncdbview';
import { blogSchema, type BlogEntities, type BlogStore } from '../blog-schema.js';
import { createBlogOrigin } from '../demo.js';

/** What every resolver gets as its context: the request's view. */
export type Context = { view: View<BlogEntities> };

export const typeDefs = /* GraphQL */ `
  type Query {
    author(id: Int!): Author
    authors(ids: [Int!]!): [Author!]!
    post(id: Int!): Post
  }
  type Author { id: Int! name: String! posts: [Post!]! }
  type Post { id: Int! title: String! published: String! author: Author! comments: [Comment!]! }
  type Comment { id: Int! body: String! likes: Int! post: Post! }
`;

type Resolvers = Record<string, Record<string, GraphQLFieldResolver<any, Context, any>>>;
type Author = EntityOf<BlogEntities, 'Author'>;
type Post = EntityOf<BlogEntities, 'Post'>;
type Comment = EntityOf<BlogEntities, 'Comment'>;

export const resolvers: Resolvers = {
  Query: {
    author: (_, { id }, { view }, info) => view.Author.many([id], { include: graphqlInclude(blogSchema, 'Author', info), nullForMissing: true }).then(([a]) => a),
    authors: (_, { ids }, { view }, info) => view.Author.many(ids, { include: graphqlInclude(blogSchema, 'Author', info) }),
    post: (_, { id }, { view }, info) => view.Post.many([id], { include: graphqlInclude(blogSchema, 'Post', info), nullForMissing: true }).then(([p]) => p),
  },
  Author: { posts: (a: Author) => a.posts },
  Post: { author: (p: Post) => p.author, comments: (p: Post) => p.comments, published: (p: Post) => p.published.toISOString() },
  Comment: { post: (c: Comment) => c.post },
};

/** The executable schema: `typeDefs` with `resolvers` set on its fields (columns resolve by name). */
export function graphqlSchema(): GraphQLSchema {
  const schema = buildSchema(typeDefs);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`no object type ${typeName} in typeDefs`);
    for (const [fieldName, resolve] of Object.entries(fields)) {
      const field = type.getFields()[fieldName];
      if (field === undefined) throw new Error(`no field ${typeName}.${fieldName} in typeDefs`);
      field.resolve = resolve;
    }
  }
  return schema;
}

/** A running server: its URL, the views of requests still being answered, and `close()`. */
export interface GraphqlServer {
  readonly url: string;
  /** Views made for requests whose response is not sent yet. */
  readonly openViews: number;
  close(): Promise<void>;
}

/** Serves GraphQL at `/graphql` over `store`, on `port` (0: any free port) of `host` (default loopback). */
export async function startServer({ store, port = 4000, host = '127.0.0.1' }: { store: BlogStore; port?: number; host?: string }): Promise<GraphqlServer> {
  const views = new Set<Context['view']>();
  const handler = createHandler<Context>({
    schema: graphqlSchema(),
    context: (req) => {
      const view = store.view(); // one view per request: its own identity map and batches
      req.context.res.once('close', () => view.close()); // closed once the response is sent
      views.add(view); // counted by server.openViews until closed
      return { view };
    },
  });
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/graphql')) void handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const { address, port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${bound}/graphql`,
    get openViews() {
      for (const view of views) if (view.closed) views.delete(view);
      return views.size;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** The store's mode from `MODE` (`PREFER_CACHE` when unset), e.g. `FRESHEN` or `prefer-cache`. */
export function modeFromEnv(value: string | undefined): Mode {
  const name = (value ?? 'PREFER_CACHE').toUpperCase().replaceAll('-', '_');
  const mode = (Mode as Record<string, Mode>)[name];
  if (mode === undefined) throw new Error(`MODE: expected one of ${Object.keys(Mode).join(', ')}, got ${JSON.stringify(value)}`);
  return mode;
}

async function main(): Promise<void> {
  const dir = join(process.cwd(), '.demo');
  let origin;
  if (process.env.MYSQL_URL !== undefined && process.env.MYSQL_URL !== '') origin = mysqlOrigin(process.env.MYSQL_URL);
  else {
    const file = join(dir, 'graphql-origin.db');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      await createBlogOrigin(file); // 100 authors, 2,000 posts, 10,000 comments
    }
    origin = sqliteOrigin(file);
  }
  const cache = process.env.CACHE ?? join(dir, 'graphql-cache.db');
  mkdirSync(dirname(cache), { recursive: true });
  const mode = modeFromEnv(process.env.MODE);
  const store = await openStore(blogSchema, { origin, cache: sqliteCache(cache), mode });
  await store.warmUp(); // connect now, not on the first request
  const server = await startServer({ store, port: Number(process.env.PORT ?? 4000) });
  console.log(`GraphQL at ${server.url} (${origin.description}, cache ${cache}, mode ${mode})`);
  const stop = () => void server.close().then(() => store.close());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  await main();
}
