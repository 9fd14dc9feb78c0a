/**
 * The blog schema the examples share (authors → posts → comments): the demo reads it from a SQLite origin,
 * the GraphQL example serves it over HTTP.
 */
import { belongsTo, defineSchema, entity, hasMany, type Store } from 'asyncdbview';

export const blogSchema = defineSchema({
  Author: entity({
    table: 'authors', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { posts: hasMany('Post', 'author_id') },
  }),
  Post: entity({
    table: 'posts', key: 'id',
    columns: { id: 'integer', title: 'text', author_id: 'integer', published: 'datetime' },
    relations: { author: belongsTo('Author', 'author_id'), comments: hasMany('Comment', 'post_id') },
  }),
  Comment: entity({
    table: 'comments', key: 'id',
    columns: { id: 'integer', body: 'text', post_id: 'integer', likes: 'integer' },
    relations: { post: belongsTo('Post', 'post_id') },
  }),
});

/** The entity definitions of {@link blogSchema}, for `Store<BlogEntities>` and `View<BlogEntities>`. */
export type BlogEntities = (typeof blogSchema)['entities'];

/** A store over the blog schema. */
export type BlogStore = Store<BlogEntities>;
