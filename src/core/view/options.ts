// The public options of views and their lookups (re-exported by the package's index).
import type { Mode } from '../mode.js';

/** Options of `store.view()`. */
export interface ViewOptions {
  /** Overrides the store's mode for this view. */
  mode?: Mode;
}

/** Options of `view.preload()`. */
export interface PreloadOptions {
  /**
   * `tree` (default): every level the cache cannot answer in one origin round trip, where the origin can;
   * `levels`: one batch per level, each waiting for the one above.
   */
  strategy?: 'tree' | 'levels';
}

/** Options of `view.X.many()`. */
export interface ManyOptions extends PreloadOptions {
  /** Relations to preload on the results (see `view.preload`). */
  include?: object;
  /** Give `null` in place of missing keys instead of rejecting with `NotFoundError`. */
  nullForMissing?: boolean;
}

/** A custom query: SQL whose rows are full rows of one entity, cached under (tag, params). */
export interface QuerySpec {
  /** Names the query; with `params` it is the completeness key. */
  tag: string;
  /** Bound parameters (strings, numbers, booleans, null, bigints, Dates, Buffers). */
  params?: readonly unknown[];
  /** SQL in the origin's dialect; it is never run on the cache. */
  sql: string;
  /** Caps the view's mode for this query. */
  mode?: Mode;
  /** Returned instead of raising `IsOfflineError` when offline and not in the cache. */
  offlineFallback?: unknown;
  /** In PREFER_CACHE, a recorded answer older than this (ms) is asked again. */
  maxAge?: number;
}
