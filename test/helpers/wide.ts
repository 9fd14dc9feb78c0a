/**
 * A schema wide enough to compare include-tree strategies on: hasMany (ordered by a text column whose
 * values differ only in case and accents), hasOne, belongsTo (nullable, bigint keys beyond 2^53),
 * manyToMany both ways, a composite key with a composite foreign key, and every column type — plus
 * helpers that turn what a view answers and what a cache file holds into plain values to compare.
 */
import { belongsTo, defineSchema, entity, hasMany, hasOne, manyToMany } from 'asyncdbview';
import { openSqlite } from './sqlite.js';

export const wideSchema = defineSchema({
  Author: entity({
    table: 'author', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: {
      posts: hasMany('Post', 'author_id', { orderBy: 'title' }),
      latest: hasOne('Post', 'author_id', { orderBy: 'published' }),
    },
  }),
  Post: entity({
    table: 'post', key: 'id',
    columns: {
      id: 'integer', title: 'text', author_id: 'integer', published: 'datetime', score: 'decimal', views: 'bigint',
      draft: 'boolean', meta: 'json?', cover: 'blob?', rating: 'real',
    },
    relations: {
      author: belongsTo('Author', 'author_id'),
      comments: hasMany('Comment', 'post_id', { orderBy: 'body' }),
      tags: manyToMany('Tag', { through: 'post_tag', sourceKey: 'post_id', targetKey: 'tag_id' }),
    },
  }),
  Comment: entity({
    table: 'comment', key: 'id',
    columns: { id: 'integer', body: 'text', post_id: 'integer', user_id: 'bigint?' },
    relations: { user: belongsTo('User', 'user_id'), post: belongsTo('Post', 'post_id') },
  }),
  User: entity({
    table: 'usr', key: 'id',
    columns: { id: 'bigint', name: 'text' },
    relations: { comments: hasMany('Comment', 'user_id') },
  }),
  Tag: entity({
    table: 'tag', key: 'id',
    columns: { id: 'integer', label: 'text' },
    relations: { posts: manyToMany('Post', { through: 'post_tag', sourceKey: 'tag_id', targetKey: 'post_id' }) },
  }),
  Region: entity({
    table: 'region', key: ['country', 'code'],
    columns: { country: 'text', code: 'integer', name: 'text' },
    relations: { cities: hasMany('City', ['country', 'region_code'], { orderBy: 'name' }) },
  }),
  City: entity({
    table: 'city', key: ['country', 'code'],
    columns: { country: 'text', code: 'text', name: 'text', region_code: 'integer?', mayor_id: 'bigint?' },
    relations: { region: belongsTo('Region', ['country', 'region_code']), mayor: belongsTo('User', 'mayor_id') },
  }),
});

/** A user id past 2^53: a Number would lose it. */
export const BIG = 9007199254740993n;

/**
 * Authors 1…6: 1 has posts 10, 11, 12 (titles differing in case), 2 has 20, 3 none, 4 has 40 and 41,
 * 5 has 50, 6 has 60. Post 10's comments differ only in case and accents; post 11 and 41 have none; some
 * comments have no user (NULL). Post 10 has tags 2, 1; tag 3 is on no post. Region IT 12 has no city;
 * city FR XXX has no region and no mayor; regions FR 11 and DE 11 share a code.
 */
export const WIDE_TABLES = [
  'CREATE TABLE author (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE post (id INT PRIMARY KEY, title VARCHAR(100) NOT NULL, author_id INT NOT NULL, published DATETIME(3) NOT NULL, ' +
    'score DECIMAL(12,2) NOT NULL, views BIGINT NOT NULL, draft TINYINT(1) NOT NULL, meta JSON NULL, cover BLOB NULL, rating DOUBLE NOT NULL, KEY (author_id))',
  'CREATE TABLE comment (id INT PRIMARY KEY, body VARCHAR(100) NOT NULL, post_id INT NOT NULL, user_id BIGINT NULL, KEY (post_id), KEY (user_id))',
  'CREATE TABLE usr (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE tag (id INT PRIMARY KEY, label VARCHAR(100) NOT NULL)',
  'CREATE TABLE post_tag (post_id INT NOT NULL, tag_id INT NOT NULL, PRIMARY KEY (post_id, tag_id), KEY (tag_id))',
  'CREATE TABLE region (country CHAR(2) NOT NULL, code INT NOT NULL, name VARCHAR(100) NOT NULL, PRIMARY KEY (country, code))',
  'CREATE TABLE city (country CHAR(2) NOT NULL, code VARCHAR(3) NOT NULL, name VARCHAR(100) NOT NULL, region_code INT NULL, mayor_id BIGINT NULL, ' +
    'PRIMARY KEY (country, code), KEY (country, region_code))',
  "INSERT INTO author VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy'), (4, 'Di'), (5, 'Ed'), (6, 'Flo')",
  'INSERT INTO post VALUES ' +
    "(10, 'beta', 1, '2024-03-01 10:00:00.125', 12.50, 9007199254740993, 0, '{\"a\": [1, 2], \"b\": \"x\"}', X'00FF10', 0.1), " +
    "(11, 'Alpha', 1, '2024-01-01 00:00:00.000', 0.01, 1, 1, NULL, NULL, -2.5), " +
    "(12, 'alpha', 1, '2024-02-01 00:00:00.999', 99999.99, -9007199254740993, 0, '[]', X'', 3), " +
    "(20, 'gamma', 2, '2024-01-05 00:00:00.000', 1.00, 2, 0, 'null', NULL, 1), " +
    "(40, 'd1', 4, '2024-01-06 00:00:00.000', 2.00, 3, 1, '{}', NULL, 1), " +
    "(41, 'd2', 4, '2024-01-07 00:00:00.000', 3.00, 4, 0, NULL, NULL, 1), " +
    "(50, 'e1', 5, '2024-01-08 00:00:00.000', 4.00, 5, 0, NULL, NULL, 1), " +
    "(60, 'f1', 6, '2024-01-09 00:00:00.000', 5.00, 6, 0, NULL, NULL, 1)",
  "INSERT INTO comment VALUES (100, 'b', 10, 9007199254740993), (101, 'B', 10, NULL), (102, 'a', 10, 2), (103, 'é', 10, 2), " +
    "(120, 'c12', 12, 9007199254740993), (200, 'c20', 20, 3), (201, 'c20b', 20, NULL), (400, 'c40', 40, 2), (500, 'c50', 50, 3), (600, 'c60', 60, 2)",
  "INSERT INTO usr VALUES (9007199254740993, 'big'), (2, 'two'), (3, 'three'), (4, 'four')",
  "INSERT INTO tag VALUES (1, 'red'), (2, 'blue'), (3, 'green')",
  'INSERT INTO post_tag VALUES (10, 2), (10, 1), (11, 1), (20, 2), (40, 1)',
  "INSERT INTO region VALUES ('FR', 11, 'Ile-de-France'), ('FR', 93, 'PACA'), ('DE', 11, 'Berlin'), ('IT', 12, 'Lazio')",
  "INSERT INTO city VALUES ('FR', 'PAR', 'Paris', 11, 2), ('FR', 'NCE', 'Nice', 93, NULL), ('FR', 'MRS', 'Marseille', 93, 9007199254740993), " +
    "('DE', 'BER', 'Berlin', 11, 3), ('FR', 'XXX', 'Nowhere', NULL, NULL)",
];

export const AUTHOR_KEYS = [1, 2, 3, 4, 5, 6] as const;
export const REGION_KEYS = [['FR', 11], ['FR', 93], ['DE', 11], ['IT', 12]] as const;

/** Every relation kind below Author, four levels deep, going back up to objects met higher. */
export const AUTHOR_TREE = {
  posts: { comments: { user: { comments: true } }, tags: { posts: { author: true } } },
  latest: true,
} as const;
/** Composite keys and composite foreign keys, then a bigint belongsTo and back down. */
export const REGION_TREE = { cities: { mayor: { comments: true }, region: true } } as const;

type Tree = { readonly [relation: string]: true | Tree };

/**
 * What a view answers for `objects` under `include`, as plain values: every column, every included
 * relation (awaited), and `#` numbering each object by first encounter, so that the same object reached
 * twice shows the same number (identity) and two snapshots differ if one view made two objects for a row.
 */
export async function snapshot(entityName: string, objects: readonly unknown[], include: Tree, ids = new Map<object, number>()): Promise<unknown[]> {
  const entity = wideSchema.compiled.byName.get(entityName);
  if (entity === undefined) throw new Error(`no entity ${entityName}`);
  const out: unknown[] = [];
  for (const obj of objects) {
    if (obj === null) {
      out.push(null);
      continue;
    }
    const o = obj as Record<string, unknown>;
    let id = ids.get(o);
    if (id === undefined) ids.set(o, (id = ids.size + 1));
    const plain: Record<string, unknown> = { '#': id };
    for (const c of entity.columns) plain[c.name] = o[c.name];
    for (const [name, sub] of Object.entries(include)) {
      const rel = entity.relations.find((r) => r.name === name);
      if (rel === undefined) throw new Error(`${entityName} has no relation ${name}`);
      const value = await o[name];
      const below = sub === true ? {} : sub;
      if (Array.isArray(value)) plain[name] = await snapshot(rel.target.name, value, below, ids);
      else plain[name] = (await snapshot(rel.target.name, [value], below, ids))[0];
    }
    out.push(plain);
  }
  return out;
}

/**
 * Everything a cache file holds that a load writes: every table but the cache's own bookkeeping (entity
 * tables and join tables, rows sorted), and the completeness marks as kind → sorted keys (their load
 * times left out). Values are given as `storage class:SQL literal`, e.g. `integer:9007199254740993`.
 */
/** A stored value as exact text with its storage class (sqlite3 would read a big integer as a rounded Number). */
const EXACT = (column: string) => `typeof(${column}) || ':' || quote(${column})`;

export async function dumpCache(file: string): Promise<Record<string, unknown>> {
  const db = await openSqlite(file, true);
  try {
    const out: Record<string, unknown> = {};
    for (const table of await db.tables()) {
      if (table.startsWith('adbv_') || table === 'ever_loaded') continue;
      // The cache's own columns (the read stamp, `_adbv_*`) are bookkeeping too.
      const cols = (await db.columns(table)).filter((c) => !c.startsWith('_adbv_')).map((c) => `"${c}"`);
      out[table] = await db.all(`SELECT ${cols.map((c) => `${EXACT(c)} AS ${c}`).join(', ')} FROM "${table}" ORDER BY ${cols.join(', ')}`);
    }
    const marks = await db.all<{ kind: string; key: unknown }>(`SELECT kind, ${EXACT('key')} AS key FROM ever_loaded ORDER BY kind, key`);
    const byKind: Record<string, unknown[]> = {};
    for (const m of marks) (byKind[m.kind] ??= []).push(m.key);
    out.ever_loaded = byKind;
    return out;
  } finally {
    await db.close();
  }
}
