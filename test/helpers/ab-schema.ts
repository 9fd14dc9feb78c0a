import { belongsTo, defineSchema, entity, hasMany, hasOne, Mode } from 'asyncdbview';

/** The schema of the README quick start. */
export const abSchema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id'), b: hasOne('B', 'a_id') },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer' },
    relations: { a: belongsTo('A', 'a_id', { mode: Mode.PREFER_CACHE }) },
  }),
});

/** DDL and seed for abSchema: A 1 has B 1..3, A 2 has B 4, A 3 has none. */
export const AB_TABLES = [
  'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
  'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, a_id INT NOT NULL, KEY (a_id))',
  "INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')",
  "INSERT INTO b VALUES (1, 'b1', 1), (2, 'b2', 1), (3, 'b3', 1), (4, 'b4', 2)",
];
