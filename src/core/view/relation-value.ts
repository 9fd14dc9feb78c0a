// What a relation lookup resolves to, made from the view's objects for its group.
import type { CompiledRelation } from '../schema.js';
import type { EntityObject } from './entity-class.js';

/** What a relation lookup resolves to: the group for hasMany and manyToMany, one object or null for hasOne. */
export type RelationValue = readonly EntityObject[] | EntityObject | null | unknown;

const EMPTY: readonly EntityObject[] = Object.freeze([]);

/** A relation's value for its group of objects: the first object or null (hasOne), else the frozen group. */
export function relationValue(rel: CompiledRelation, members: readonly EntityObject[] | undefined): RelationValue {
  if (rel.kind === 'hasOne') return members?.[0] ?? null;
  return members === undefined || members.length === 0 ? EMPTY : Object.freeze(members);
}
