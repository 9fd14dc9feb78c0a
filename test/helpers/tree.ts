import type mysql from 'mysql2/promise';
import { belongsTo, defineSchema, entity, hasMany } from 'asyncdbview';

/** A → bs → cs: the three-level tree the concurrency tests hammer. */
export const treeSchema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id') },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer' },
    relations: { cs: hasMany('C', 'b_id'), a: belongsTo('A', 'a_id') },
  }),
  C: entity({
    table: 'c', key: 'id',
    columns: { id: 'integer', name: 'text', b_id: 'integer' },
    relations: {},
  }),
});

/** A small deterministic PRNG (mulberry32), so every run hammers the same data in the same way. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with a given random source. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * DDL and seed of the tree: `as` A rows, about `bsPerA` Bs per A and `csPerB` Cs per B, each child's parent
 * drawn at random (so some parents have none). Inserted in chunks so no statement is huge.
 */
export function treeTables(as: number, bsPerA: number, csPerB: number, seed = 1): string[] {
  const random = rng(seed);
  const out = [
    'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
    'CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, a_id INT NOT NULL, KEY (a_id))',
    'CREATE TABLE c (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, b_id INT NOT NULL, KEY (b_id))',
  ];
  const insert = (table: string, values: string[]) => {
    for (let i = 0; i < values.length; i += 2000) out.push(`INSERT INTO ${table} VALUES ${values.slice(i, i + 2000).join(', ')}`);
  };
  const nb = Math.round(as * bsPerA);
  const nc = Math.round(nb * csPerB);
  insert('a', Array.from({ length: as }, (_, i) => `(${i + 1}, 'a${i + 1}')`));
  insert('b', Array.from({ length: nb }, (_, i) => `(${i + 1}, 'b${i + 1}', ${1 + Math.floor(random() * as)})`));
  insert('c', Array.from({ length: nc }, (_, i) => `(${i + 1}, 'c${i + 1}', ${1 + Math.floor(random() * nb)})`));
  return out;
}

/** What the origin holds, read directly with mysql2: names by id and children by parent, ids ascending. */
export interface Truth {
  readonly aName: Map<number, string>;
  readonly bName: Map<number, string>;
  readonly cName: Map<number, string>;
  /** A id → its B ids, ascending (A ids without Bs are absent). */
  readonly bsOf: Map<number, number[]>;
  /** B id → its C ids, ascending. */
  readonly csOf: Map<number, number[]>;
}

export async function readTruth(conn: mysql.Connection): Promise<Truth> {
  const [as] = await conn.query('SELECT id, name FROM a ORDER BY id');
  const [bs] = await conn.query('SELECT id, name, a_id FROM b ORDER BY id');
  const [cs] = await conn.query('SELECT id, name, b_id FROM c ORDER BY id');
  const truth: Truth = { aName: new Map(), bName: new Map(), cName: new Map(), bsOf: new Map(), csOf: new Map() };
  for (const r of as as { id: number; name: string }[]) truth.aName.set(r.id, r.name);
  for (const r of bs as { id: number; name: string; a_id: number }[]) {
    truth.bName.set(r.id, r.name);
    const list = truth.bsOf.get(r.a_id);
    if (list === undefined) truth.bsOf.set(r.a_id, [r.id]);
    else list.push(r.id);
  }
  for (const r of cs as { id: number; name: string; b_id: number }[]) {
    truth.cName.set(r.id, r.name);
    const list = truth.csOf.get(r.b_id);
    if (list === undefined) truth.csOf.set(r.b_id, [r.id]);
    else list.push(r.id);
  }
  return truth;
}

/** Which lookup an origin statement of the tree schema served, from its SQL (mysqlOrigin's statement shape). */
export function lookupKind(sql: string): 'A' | 'A.bs' | 'B' | 'B.cs' | 'C' | 'other' {
  const m = /FROM `(\w+)` t WHERE t\.`(\w+)` IN/.exec(sql);
  if (m === null) return 'other';
  const [, table, col] = m;
  if (table === 'a' && col === 'id') return 'A';
  if (table === 'b' && col === 'a_id') return 'A.bs';
  if (table === 'b' && col === 'id') return 'B';
  if (table === 'c' && col === 'b_id') return 'B.cs';
  if (table === 'c' && col === 'id') return 'C';
  return 'other';
}
