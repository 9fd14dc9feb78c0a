/**
 * GraphQL over the blog schema on a standard stack: graphql-js, graphql-http's Node handler, node:http.
 * One asyncdbview view per request, made in the handler's context function and closed once the response
 * is sent. The resolvers stay one line each: a root resolver turns its selection set into an include tree
 * (`graphqlInclude`) and preloads it, so a whole response takes two origin round trips however deep it
 * goes — the roots' lookup, then every level below in one — and the nested resolvers read from memory.
 *
 * Run it: `node build/examples/graphql/server.js` with MYSQL_URL (origin) and CACHE (cache file) set, then
 *   curl -H 'content-type: application/json' -d '{"query":"{ authors(ids: [1, 2]) { name posts { title } } }"}' localhost:4000/graphql
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, GraphQLObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/http';
import { graphqlInclude, mysqlOrigin, openStore, sqliteCache, type EntityOf, type View } from 'asyncdbview';
import { blogSchema, type BlogEntities, type BlogStore } from '../blog-schema.js';

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
    author: (_, { id }, { view }, info) => view.Author(id, { include: graphqlInclude(blogSchema, 'Author', info) }),
    authors: (_, { ids }, { view }, info) => view.Author.many(ids, { include: graphqlInclude(blogSchema, 'Author', info) }),
    post: (_, { id }, { view }, info) => view.Post(id, { include: graphqlInclude(blogSchema, 'Post', info) }),
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

async function main(): Promise<void> {
  const store = await openStore(blogSchema, {
    origin: mysqlOrigin(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/blog'),
    cache: sqliteCache(process.env.CACHE ?? 'blog-cache.db'),
  });
  const server = await startServer({ store, port: Number(process.env.PORT ?? 4000) });
  console.log(`GraphQL at ${server.url}`);
  process.once('SIGINT', () => void server.close().then(() => store.close()));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  await main();
}
