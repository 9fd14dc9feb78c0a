// The public view: a unit of work with one accessor per entity (`view.A(1)`), over a view state.
import { IsOfflineError } from '../errors.js';
import type { Include } from '../include.js';
import { assertMode, Mode } from '../mode.js';
import type { EntityDef } from '../schema.js';
import type { EntityAccessor, EntityOf, NameOf } from '../types.js';
import type { Row } from '../values.js';
import type { EntityObject } from './entity-class.js';
import type { ManyOptions, PreloadOptions, QuerySpec } from './options.js';
import type { ViewState } from './view-state.js';

/**
 * A unit of work (one per request or job step): one object per row, and every lookup made in one tick
 * batched into one statement. Entities are reached as `view.X(key)` for each entity `X` of the schema.
 */
export class ViewBase {
  readonly #state: ViewState;

  /** @internal */
  constructor(state: ViewState) {
    this.#state = state;
  }

  /** The view's mode; may be changed at any time and applies to lookups made after the change. */
  get mode(): Mode {
    return this.#state.mode;
  }

  set mode(mode: Mode) {
    assertMode(mode, 'view.mode');
    this.#state.mode = mode;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#state.closed;
  }

  /**
   * Runs a custom query whose rows are full rows of `entity`: on the origin (per the mode), its rows
   * merged into the cache and the answer recorded complete under (tag, params), so it can be answered
   * offline — in the same order — even when its SQL only the origin understands.
   *
   * @example
   * const cs = await view.query('C', { tag: 'A.cs', params: [a.id],
   *   sql: 'SELECT c.* FROM c JOIN b ON c.b_id = b.id WHERE b.a_id = ? ORDER BY c.id' });
   */
  query(entity: string, spec: QuerySpec): Promise<readonly unknown[]> {
    return this.#state.query(entity, spec) as Promise<readonly unknown[]>;
  }

  /**
   * Caller SQL with bound parameters on the origin, uncached; plain rows. Read-only: the server refuses
   * writes. Rejects with `IsOfflineError` when the view is offline.
   *
   * @example
   * const [{ n }] = await view.raw('SELECT COUNT(*) AS n FROM b WHERE a_id = ?', [1]);
   */
  async raw(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    this.#state.assertLive('run raw SQL');
    if (typeof sql !== 'string' || sql.trim() === '') throw new TypeError(`raw: sql must be a non-empty string, got ${JSON.stringify(sql)}`);
    if (!Array.isArray(params)) throw new TypeError('raw: params must be an array');
    if (this.#state.mode === Mode.OFFLINE) throw new IsOfflineError('raw SQL needs the origin and the view is offline');
    return this.#state.ctx.raw(sql, params);
  }

  /**
   * Loads relations of `entities` level by level: per relation and level one cache statement and at most
   * one origin statement (per batch-size chunk); afterwards awaiting them sends nothing.
   *
   * @example
   * await view.preload(as, { bs: { cs: true } });
   */
  preload(entities: readonly object[], include: object, options?: PreloadOptions): Promise<void> {
    return this.#state.preload(entities as readonly EntityObject[], include, options);
  }

  /** Re-reads an entity (or one of its relations) from the origin now, whatever the mode. */
  refresh(entity: object, relation?: string): Promise<unknown> {
    return this.#state.refresh(entity as EntityObject, relation);
  }

  /** Ends the unit of work: its lookups, column reads and relation reads then raise `NotLiveError`. */
  close(): void {
    this.#state.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/** The typed forms of the view methods that depend on the schema. */
export interface TypedViewMethods<S extends Record<string, EntityDef>> {
  query<N extends keyof S & string>(entity: N, spec: QuerySpec): Promise<readonly EntityOf<S, N>[]>;
  preload<E extends EntityOf<S, keyof S>>(entities: readonly E[], include: Include<S, NameOf<E> & keyof S>, options?: PreloadOptions): Promise<void>;
  refresh<E extends EntityOf<S, keyof S>>(entity: E): Promise<E>;
  refresh<E extends EntityOf<S, keyof S>, R extends keyof E & keyof S[NameOf<E> & keyof S]['relations']>(entity: E, relation: R): Promise<Awaited<E[R]>>;
}

/** A view over schema `S`: {@link ViewBase} plus one accessor per entity (`view.A(1)`). */
export type View<S extends Record<string, EntityDef> = Record<string, EntityDef>> = Omit<ViewBase, keyof TypedViewMethods<S>> &
  TypedViewMethods<S> & {
    readonly [N in keyof S]: EntityAccessor<S, N>;
  };

/** @internal Builds the public view object over a view state. */
export function createView<S extends Record<string, EntityDef>>(state: ViewState): View<S> {
  const view = new ViewBase(state);
  for (const entity of state.ctx.schema.entities) {
    const accessor = (key: unknown, options?: ManyOptions) =>
      options?.include === undefined ? state.lookup(entity, key) : state.lookupWith(entity, key, options);
    accessor.many = (keys: readonly unknown[], options?: ManyOptions) => state.many(entity, keys, options);
    Object.defineProperty(view, entity.name, { enumerable: true, value: accessor });
  }
  return view as unknown as View<S>;
}
