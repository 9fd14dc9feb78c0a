/**
 * Parents, children that move between them, links that move, and the lookups over them: the data the
 * multi-process moved-rows test steps through known origin states, shared with its worker processes.
 */
import {
  defineSchema, entity, hasMany, hasOne, manyToMany, type View,
} from 'asyncdbview';
import { orErrorName } from './part.js';

export const movingSchema = defineSchema({
  P: entity({
    table: 'p', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: {
      cs: hasMany('C', 'p_id'),
      c: hasOne('C', 'p_id'),
      tags: manyToMany('T', { through: 'p_tag', sourceKey: 'p_id', targetKey: 't_id' }),
    },
  }),
  C: entity({ table: 'c', key: 'id', columns: { id: 'integer', p_id: 'integer', name: 'text' }, relations: {} }),
  T: entity({
    table: 't', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { ps: manyToMany('P', { through: 'p_tag', sourceKey: 't_id', targetKey: 'p_id' }) },
  }),
});
type S = typeof movingSchema.entities;

export const MOVING_TABLES = [
  'CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE c (id INT PRIMARY KEY, p_id INT NOT NULL, name VARCHAR(20) NOT NULL, KEY (p_id))',
  'CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE p_tag (p_id INT NOT NULL, t_id INT NOT NULL, PRIMARY KEY (p_id, t_id), KEY (t_id))',
];

const RESET = ['DELETE FROM p', 'DELETE FROM c', 'DELETE FROM t', 'DELETE FROM p_tag', "INSERT INTO p VALUES (1, 'p1'), (2, 'p2'), (3, 'p3')", "INSERT INTO t VALUES (1, 't1'), (2, 't2')"];

/** Origin states, each the statements that set it up whole: children and links moving between parents. */
export const MOVING_STATES: readonly (readonly string[])[] = [
  [...RESET, "INSERT INTO c VALUES (10, 1, 'c10'), (20, 2, 'c20')", 'INSERT INTO p_tag VALUES (1, 1), (2, 2)'],
  [...RESET, "INSERT INTO c VALUES (10, 2, 'c10'), (30, 1, 'c30')", 'INSERT INTO p_tag VALUES (2, 1), (2, 2)'],
  [...RESET, "INSERT INTO c VALUES (10, 1, 'c10b'), (20, 3, 'c20'), (30, 2, 'c30')", 'INSERT INTO p_tag VALUES (1, 2), (3, 1)'],
  [...RESET, "INSERT INTO c VALUES (20, 1, 'c20'), (30, 3, 'c30'), (40, 1, 'c40')", 'INSERT INTO p_tag VALUES (1, 1), (1, 2), (3, 2)'],
];

const CS_OF = { tag: 'cs-of', sql: 'SELECT * FROM c WHERE p_id = ? ORDER BY id' };

/** Every lookup compared, by name: what a view answers for it, as plain data. */
export const MOVING_LOOKUPS: Record<string, (view: View<S>) => Promise<unknown>> = {};
for (const p of [1, 2, 3]) {
  MOVING_LOOKUPS[`P${p}.cs`] = async (v) => (await (await v.P(p)).cs).map((c) => [c.id, c.name]);
  MOVING_LOOKUPS[`P${p}.c`] = async (v) => (await (await v.P(p)).c)?.id ?? null;
  MOVING_LOOKUPS[`P${p}.tags`] = async (v) => (await (await v.P(p)).tags).map((t) => t.id);
  MOVING_LOOKUPS[`cs-of ${p}`] = async (v) => (await v.query('C', { ...CS_OF, params: [p] })).map((c) => [c.id, c.p_id, c.name]);
}
for (const t of [1, 2]) MOVING_LOOKUPS[`T${t}.ps`] = async (v) => (await (await v.T(t)).ps).map((p) => p.id);
for (const c of [10, 20, 30, 40]) MOVING_LOOKUPS[`C${c}`] = async (v) => { const r = await v.C(c); return [r.p_id, r.name]; };

/** A lookup's answer, or the name of the error it gave (IsOfflineError, NotFoundError). */
export function movingAnswer(view: View<S>, name: string): Promise<unknown> {
  return orErrorName(() => (MOVING_LOOKUPS[name] as (v: View<S>) => Promise<unknown>)(view));
}
