import type { EntityDef, Schema } from '../core/schema.js';
import { UsageError } from './usage-error.js';

/** An include tree as JSON gives it: relation names to `true` or to the tree below. */
export type IncludeTree = { [relation: string]: true | IncludeTree };

/** Checks an include tree against the schema, naming the first unknown relation. */
function check(schema: Schema<Record<string, EntityDef>>, entity: string, tree: unknown, path: string): IncludeTree {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) throw new UsageError(`--include: at ${path}: expected an object such as {"posts": true}`);
  const def = schema.entities[entity] as EntityDef;
  for (const [name, sub] of Object.entries(tree)) {
    const rel = def.relations[name];
    if (rel === undefined) {
      throw new UsageError(`--include: ${entity} has no relation ${JSON.stringify(name)} (at ${path}); its relations: ${Object.keys(def.relations).join(', ') || '(none)'}`);
    }
    if (sub !== true) check(schema, rel.target, sub, `${path}.${name}`);
  }
  return tree as IncludeTree;
}

/** Every relation of `entity`, one level deep: with its rows, every lookup from them is complete. */
export function directRelations(schema: Schema<Record<string, EntityDef>>, entity: string): IncludeTree {
  return Object.fromEntries(Object.keys((schema.entities[entity] as EntityDef).relations).map((r) => [r, true as const]));
}

/**
 * The include tree of each entity to warm. `--include` is the tree of the `--entity` given, or without
 * `--entity` an object of trees by entity name; entities it does not name get every relation one level deep.
 */
export function includeOption(schema: Schema<Record<string, EntityDef>>, entities: readonly string[], json: string | undefined, single: boolean): Map<string, IncludeTree> {
  const out = new Map(entities.map((e) => [e, directRelations(schema, e)]));
  if (json === undefined) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new UsageError(`--include: not JSON: ${(error as Error).message}`);
  }
  if (single) {
    const entity = entities[0] as string;
    out.set(entity, check(schema, entity, parsed, entity));
    return out;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('--include: expected an object of include trees by entity name, e.g. {"Author": {"posts": true}}');
  for (const [entity, tree] of Object.entries(parsed)) {
    if (!out.has(entity)) throw new UsageError(`--include: unknown entity ${JSON.stringify(entity)}; entities: ${entities.join(', ')} (or give --entity and the tree of that entity)`);
    out.set(entity, check(schema, entity, tree, entity));
  }
  return out;
}
