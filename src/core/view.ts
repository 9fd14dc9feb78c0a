import { assertMode, type Mode } from './mode.js';
import type { EntityDef } from './schema.js';
import type { EntityAccessor } from './types.js';
import type { ViewState } from './view-state.js';

/** Options of `store.view()`. */
export interface ViewOptions {
  /** Overrides the store's mode for this view. */
  mode?: Mode;
}

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

/** A view over schema `S`: {@link ViewBase} plus one accessor per entity (`view.A(1)`). */
export type View<S extends Record<string, EntityDef> = Record<string, EntityDef>> = ViewBase & {
  readonly [N in keyof S]: EntityAccessor<S, N>;
};

/** @internal Builds the public view object over a view state. */
export function createView<S extends Record<string, EntityDef>>(state: ViewState): View<S> {
  const view = new ViewBase(state);
  for (const entity of state.core.schema.entities) {
    Object.defineProperty(view, entity.name, {
      enumerable: true,
      value: (key: unknown) => state.lookup(entity, key),
    });
  }
  return view as View<S>;
}
