import type { EntityDef, Schema } from './core/schema.js';

/** A directive's argument value as the AST has it: a literal, or a variable. */
interface ValueLike {
  readonly kind: string;
  readonly value?: unknown;
  readonly name?: { readonly value: string };
}

/** The parts of a GraphQL selection this reads (structurally, so graphql-js is not a dependency). */
interface SelectionLike {
  readonly kind: string;
  readonly name?: { readonly value: string };
  readonly selectionSet?: { readonly selections: readonly SelectionLike[] };
  readonly directives?: readonly { readonly name: { readonly value: string }; readonly arguments?: readonly { readonly name: { readonly value: string }; readonly value: ValueLike }[] }[];
}

/** The parts of a resolver's `info` (`GraphQLResolveInfo`) this reads. */
export interface ResolveInfoLike {
  readonly fieldNodes: readonly SelectionLike[];
  readonly fragments: Readonly<Record<string, { readonly selectionSet: { readonly selections: readonly SelectionLike[] } }>>;
  /** The operation's variables, for `@skip(if: $x)` / `@include(if: $x)`. */
  readonly variableValues?: Readonly<Record<string, unknown>>;
}

/** An include tree as `view.preload` takes it. */
export type IncludeTree = { [relation: string]: true | IncludeTree };

/**
 * Turns a resolver's `info` into an include tree over the schema's relations: every selected field (under
 * any alias, in fragments and inline fragments, at any depth, not left out by `@skip`/`@include`) that
 * names a relation of the entity is included, with what is selected below it. A root resolver that preloads it loads the whole response in
 * one origin round trip; the other resolvers then read from memory.
 *
 * @example
 * authors: (_, { ids }, { view }, info) =>
 *   view.Author.many(ids, { include: graphqlInclude(schema, 'Author', info) }),
 */
export function graphqlInclude<S extends Record<string, EntityDef>>(schema: Schema<S>, entity: keyof S & string, info: ResolveInfoLike): IncludeTree {
  const start = schema.compiled.byName.get(entity);
  if (start === undefined) throw new TypeError(`graphqlInclude: unknown entity ${JSON.stringify(entity)}`);
  if (info === null || typeof info !== 'object' || !Array.isArray(info.fieldNodes)) {
    throw new TypeError('graphqlInclude: expected the resolver info (its fieldNodes and fragments)');
  }
  const collect = (selections: readonly SelectionLike[], entityName: string, into: IncludeTree, seen: Set<string>): void => {
    const current = schema.compiled.byName.get(entityName);
    if (current === undefined) return;
    for (const sel of selections) {
      if (!selected(sel, info.variableValues ?? {})) continue;
      if (sel.kind === 'Field') {
        const rel = current.relations.find((r) => r.name === sel.name?.value);
        if (rel === undefined) continue;
        const below: IncludeTree = {};
        if (sel.selectionSet !== undefined) collect(sel.selectionSet.selections, rel.target.name, below, seen);
        into[rel.name] = mergeTrees(into[rel.name], Object.keys(below).length === 0 ? true : below);
      } else if (sel.kind === 'InlineFragment' && sel.selectionSet !== undefined) {
        collect(sel.selectionSet.selections, entityName, into, seen);
      } else if (sel.kind === 'FragmentSpread' && sel.name !== undefined && !seen.has(sel.name.value)) {
        const fragment = info.fragments[sel.name.value];
        if (fragment !== undefined) collect(fragment.selectionSet.selections, entityName, into, new Set([...seen, sel.name.value]));
      }
    }
  };
  const tree: IncludeTree = {};
  for (const node of info.fieldNodes) if (node.selectionSet !== undefined) collect(node.selectionSet.selections, start.name, tree, new Set());
  return tree;
}

/** `@skip(if:)` and `@include(if:)` as GraphQL executes them: skipped if either says so. */
function selected(sel: SelectionLike, variables: Readonly<Record<string, unknown>>): boolean {
  for (const d of sel.directives ?? []) {
    const name = d.name.value;
    if (name !== 'skip' && name !== 'include') continue;
    const arg = d.arguments?.find((a) => a.name.value === 'if')?.value;
    const on = arg === undefined ? undefined : arg.kind === 'Variable' ? variables[arg.name?.value ?? ''] : arg.value;
    if (name === 'skip' && on === true) return false;
    if (name === 'include' && on !== true) return false;
  }
  return true;
}

function mergeTrees(a: true | IncludeTree | undefined, b: true | IncludeTree): true | IncludeTree {
  if (a === undefined || a === true) return b;
  if (b === true) return a;
  const out: IncludeTree = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = mergeTrees(out[k], v);
  return out;
}
