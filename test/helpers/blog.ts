/**
 * The blog of examples/blog-schema.ts as MariaDB tables (with foreign keys, so introspection finds the
 * relations), seeded by formula: author a has posts (a-1)*P+1 … a*P, post p has comments (p-1)*C+1 … p*C.
 */

/** DDL and seed: `authors` authors, `postsPerAuthor` posts each, `commentsPerPost` comments per post. */
export function blogTables(authors: number, postsPerAuthor: number, commentsPerPost: number): string[] {
  const posts = authors * postsPerAuthor;
  const comments = posts * commentsPerPost;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  return [
    'CREATE TABLE authors (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
    'CREATE TABLE posts (id INT PRIMARY KEY, title VARCHAR(200) NOT NULL, author_id INT NOT NULL, published DATETIME(3) NOT NULL, ' +
      'FOREIGN KEY (author_id) REFERENCES authors (id))',
    'CREATE TABLE comments (id INT PRIMARY KEY, body TEXT NOT NULL, post_id INT NOT NULL, likes INT NOT NULL, ' +
      'FOREIGN KEY (post_id) REFERENCES posts (id))',
    `INSERT INTO authors VALUES ${range(authors).map((a) => `(${a}, 'Author ${a}')`).join(', ')}`,
    `INSERT INTO posts VALUES ${range(posts)
      .map((p) => `(${p}, 'Post ${p}', ${Math.ceil(p / postsPerAuthor)}, '2024-01-01 00:00:00' + INTERVAL ${p} HOUR)`)
      .join(', ')}`,
    `INSERT INTO comments VALUES ${range(comments).map((c) => `(${c}, 'Comment ${c}', ${Math.ceil(c / commentsPerPost)}, ${c % 7})`).join(', ')}`,
  ];
}

/** The tree `authors { name posts { title comments { body } } }` for authors 1…`authors`, as the seed made it. */
export function blogTree(authors: number, postsPerAuthor: number, commentsPerPost: number) {
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  return range(1, authors).map((a) => ({
    name: `Author ${a}`,
    posts: range((a - 1) * postsPerAuthor + 1, postsPerAuthor).map((p) => ({
      title: `Post ${p}`,
      comments: range((p - 1) * commentsPerPost + 1, commentsPerPost).map((c) => ({ body: `Comment ${c}` })),
    })),
  }));
}
