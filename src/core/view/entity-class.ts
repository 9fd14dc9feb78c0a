// The class of each entity's objects: columns and relations as accessors on a prototype built once per entity.
import { inspect } from 'node:util';
import type { CompiledEntity, CompiledRelation } from '../schema.js';
import type { Row } from '../values.js';

/** @internal The view an entity object belongs to. */
export const VIEW = Symbol('asyncdbview.view');
/** @internal The decoded row behind an entity object. */
export const ROW = Symbol('asyncdbview.row');
/** @internal Whether the row came from the origin within this view (what FRESHEN asks for). */
export const FRESH = Symbol('asyncdbview.fresh');
/** @internal The compiled entity, on each entity prototype. */
export const ENTITY = Symbol('asyncdbview.entity');

/** @internal What an entity object asks of the view it belongs to. */
export interface EntityHost {
  readonly closed: boolean;
  /** Throws the view's `NotLiveError` for `what`. */
  throwClosed(what: string): never;
  /** The value of relation `rel` of `obj` (a promise). */
  follow(rel: CompiledRelation, obj: EntityObject): Promise<unknown>;
}

/** @internal The fields every entity object carries. */
export interface EntityObject {
  [VIEW]: EntityHost;
  [ROW]: Row;
  [FRESH]: boolean;
  readonly [ENTITY]: CompiledEntity;
}

/** @internal */
export type EntityConstructor = new (view: EntityHost, row: Row, fresh: boolean) => EntityObject;

/** Each compiled entity's class, made once whatever the number of stores opened over its schema. */
const CLASSES = new WeakMap<CompiledEntity, EntityConstructor>();

/**
 * The class of `entity`'s objects. Column and relation accessors live on the prototype, built once per
 * entity, so an object costs three fields whatever its number of columns. Every store over the same
 * compiled schema shares the class (an object's view is its own field): a class per store would give a
 * process that opens stores one after another new shapes each time, and code that reads entity objects
 * would go from fast property access to the slowest kind after a few stores.
 */
export function makeEntityClass(entity: CompiledEntity): EntityConstructor {
  let cls = CLASSES.get(entity);
  if (cls === undefined) CLASSES.set(entity, (cls = buildEntityClass(entity)));
  return cls;
}

function buildEntityClass(entity: CompiledEntity): EntityConstructor {
  const Cls = class {
    [VIEW]: EntityHost;
    [ROW]: Row;
    [FRESH]: boolean;
    constructor(view: EntityHost, row: Row, fresh: boolean) {
      this[VIEW] = view;
      this[ROW] = row;
      this[FRESH] = fresh;
    }
  };
  Object.defineProperty(Cls, 'name', { value: entity.name });
  const proto = Cls.prototype as unknown as Record<PropertyKey, unknown>;
  Object.defineProperty(proto, ENTITY, { value: entity });
  for (const { name } of entity.columns) {
    Object.defineProperty(proto, name, {
      enumerable: true,
      get(this: EntityObject) {
        const view = this[VIEW];
        if (view.closed) view.throwClosed(`read ${entity.name}.${name}`);
        return this[ROW][name];
      },
    });
  }
  for (const rel of entity.relations) {
    Object.defineProperty(proto, rel.name, {
      enumerable: false,
      get(this: EntityObject) {
        return this[VIEW].follow(rel, this);
      },
    });
  }
  const names = entity.columns.map((c) => c.name);
  Object.defineProperty(proto, 'toJSON', {
    value(this: EntityObject) {
      const row = this[ROW];
      const out: Row = {};
      for (const n of names) out[n] = row[n];
      return out;
    },
  });
  Object.defineProperty(proto, inspect.custom, {
    value(this: EntityObject, depth: number, options: object) {
      return `${entity.name} ${inspect((this as unknown as { toJSON(): Row }).toJSON(), { ...options, depth })}`;
    },
  });
  return Cls as unknown as EntityConstructor;
}
