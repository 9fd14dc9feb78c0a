import { describe } from './values.js';
import type { CompiledEntity, CompiledRelation, EntityDef, RelationDef } from './schema.js';

/**
 * An include tree over the schema's relations: `{ bs: true }` or `{ bs: { cs: true } }`, typed so only
 * relation names of the entity (and of each target, below) are accepted.
 */
export type Include<S extends Record<string, EntityDef>, N extends keyof S> = {
  readonly [R in keyof S[N]['relations']]?: true | (S[N]['relations'][R] extends RelationDef<any, infer T> ? (T extends keyof S ? Include<S, T> : never) : never);
};

/** @internal An include tree checked against the schema. */
export interface IncludeNode {
  readonly rel: CompiledRelation;
  readonly children: readonly IncludeNode[];
}

/** @internal Checks an include tree, naming the entity and the unknown relation on a mistake. */
export function compileInclude(entity: CompiledEntity, include: unknown, path = entity.name): IncludeNode[] {
  if (include === null || typeof include !== 'object' || Array.isArray(include)) {
    throw new TypeError(`include for ${path}: expected an object such as { relation: true }, got ${describe(include)}`);
  }
  const nodes: IncludeNode[] = [];
  for (const [name, sub] of Object.entries(include)) {
    if (sub === undefined || sub === false) continue;
    const rel = entity.relations.find((r) => r.name === name);
    if (rel === undefined) {
      throw new TypeError(`include for ${path}: ${entity.name} has no relation ${describe(name)}; its relations: ${entity.relations.map((r) => r.name).join(', ') || '(none)'}`);
    }
    nodes.push({ rel, children: sub === true ? [] : compileInclude(rel.target, sub, `${path}.${name}`) });
  }
  return nodes;
}

/** @internal True when `test` holds for every node of the tree. */
export function everyNode(nodes: readonly IncludeNode[], test: (node: IncludeNode) => boolean): boolean {
  return nodes.every((n) => test(n) && everyNode(n.children, test));
}
