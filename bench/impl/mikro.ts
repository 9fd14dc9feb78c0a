/**
 * The strongest peer: MikroORM 6.6 with its dataloader enabled for references and collections
 * (`dataloader: DataloaderType.ALL`) and its identity map, one EntityManager fork per request. Entities are
 * declared with EntitySchema (no decorators, no reflect-metadata). Resolvers use what MikroORM's docs give
 * GraphQL: `ref.load()` for entities and `collection.load()` for one-to-many, both batched per tick.
 */
import { Collection, DataloaderType, EntitySchema, type EntityManager, type Ref } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/mysql';
import { runScenario, type Req } from '../scenarios.js';
import type { ImplFactory } from './types.js';

class MAuthor {
  declare id: number;
  declare name: string;
  posts = new Collection<MPost>(this);
}

class MPost {
  declare id: number;
  declare title: string;
  declare author: Ref<MAuthor>;
  declare published: Date;
  comments = new Collection<MComment>(this);
}

class MComment {
  declare id: number;
  declare body: string;
  declare post: Ref<MPost>;
  declare likes: number;
}

const AuthorSchema = new EntitySchema<MAuthor>({
  class: MAuthor,
  tableName: 'authors',
  properties: {
    id: { type: 'number', primary: true },
    name: { type: 'string' },
    posts: { kind: '1:m', entity: () => MPost, mappedBy: 'author' },
  },
});

const PostSchema = new EntitySchema<MPost>({
  class: MPost,
  tableName: 'posts',
  properties: {
    id: { type: 'number', primary: true },
    title: { type: 'string' },
    author: { kind: 'm:1', entity: () => MAuthor, ref: true },
    published: { type: 'Date' },
    comments: { kind: '1:m', entity: () => MComment, mappedBy: 'post' },
  },
});

const CommentSchema = new EntitySchema<MComment>({
  class: MComment,
  tableName: 'comments',
  properties: {
    id: { type: 'number', primary: true },
    body: { type: 'string' },
    post: { kind: 'm:1', entity: () => MPost, ref: true },
    likes: { type: 'number' },
  },
});

function found<T>(entity: T | null, what: string): T {
  if (entity === null) throw new Error(`${what} not found`);
  return entity;
}

class MikroReq implements Req<MAuthor, MPost, MComment> {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async author(id: number): Promise<MAuthor> {
    return found(await this.#em.getReference(MAuthor, id, { wrapped: true }).load(), `author ${id}`);
  }

  async post(id: number): Promise<MPost> {
    return found(await this.#em.getReference(MPost, id, { wrapped: true }).load(), `post ${id}`);
  }

  async comment(id: number): Promise<MComment> {
    return found(await this.#em.getReference(MComment, id, { wrapped: true }).load(), `comment ${id}`);
  }

  async postsOf(a: MAuthor): Promise<readonly MPost[]> {
    return (await a.posts.load()).getItems();
  }

  async commentsOf(p: MPost): Promise<readonly MComment[]> {
    return (await p.comments.load()).getItems();
  }

  async authorOf(p: MPost): Promise<MAuthor> {
    return found(await p.author.load(), `author ${p.author.id}`);
  }

  async postOf(c: MComment): Promise<MPost> {
    return found(await c.post.load(), `post ${c.post.id}`);
  }

  authorIdOf(p: MPost): number {
    return p.author.id;
  }

  postIdOf(c: MComment): number {
    return c.post.id;
  }

  end(): void {
    this.#em.clear();
  }
}

export const mikro: ImplFactory = async (spec) => {
  const url = new URL(spec.originUrl);
  const dbName = url.pathname.slice(1);
  url.pathname = '';
  const orm = await MikroORM.init({
    clientUrl: url.toString().replace(/\/$/, ''),
    dbName,
    entities: [AuthorSchema, PostSchema, CommentSchema],
    dataloader: DataloaderType.ALL,
    // A read-only production setup: no schema or database checks at start (connect still runs `select 1`).
    ensureDatabase: false,
    pool: { min: 0, max: 8 },
    timezone: '+00:00',
    debug: false,
  });
  if (spec.scenario !== 'coldstart') {
    // Open the pool's connections before the clock starts, as the other contenders do.
    const client = orm.em.getKnex().client as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<unknown> };
    const conns = await Promise.all(Array.from({ length: 8 }, () => client.acquireConnection()));
    await Promise.all(conns.map((c) => client.releaseConnection(c)));
  }
  return {
    run: (scenario, plans) => runScenario(scenario, new MikroReq(orm.em.fork()), plans),
    close: () => orm.close(true),
  };
};
