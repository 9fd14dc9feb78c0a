/** The origin's tables (MariaDB DDL) and the asyncdbview schema over them: the blog of examples/demo.ts. */
import { blogSchema, type BlogEntities } from '../examples/blog-schema.js';

/** The same schema the examples use. */
export const benchSchema = blogSchema;

export type BenchEntities = BlogEntities;

export const ORIGIN_DDL = [
  'CREATE TABLE authors (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE posts (id INT PRIMARY KEY, title VARCHAR(200) NOT NULL, author_id INT NOT NULL, published DATETIME(3) NOT NULL, KEY (author_id))',
  'CREATE TABLE comments (id INT PRIMARY KEY, body VARCHAR(500) NOT NULL, post_id INT NOT NULL, likes INT NOT NULL, KEY (post_id))',
];
