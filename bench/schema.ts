/** The origin's tables (MariaDB DDL) and the asyncdbview schema over them: the blog of examples/demo.ts. */
import { belongsTo, defineSchema, entity, hasMany } from 'asyncdbview';

export const benchSchema = defineSchema({
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

export type BenchEntities = (typeof benchSchema)['entities'];

export const ORIGIN_DDL = [
  'CREATE TABLE authors (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE posts (id INT PRIMARY KEY, title VARCHAR(200) NOT NULL, author_id INT NOT NULL, published DATETIME(3) NOT NULL, KEY (author_id))',
  'CREATE TABLE comments (id INT PRIMARY KEY, body VARCHAR(500) NOT NULL, post_id INT NOT NULL, likes INT NOT NULL, KEY (post_id))',
];
