/** One statement sent to the origin or the cache, as reported by `store.on('query', …)`. */
export interface QueryEvent {
  readonly target: 'origin' | 'cache';
  readonly sql: string;
  /** Number of bound parameters (a list bound to one placeholder counts its items). */
  readonly params: number;
  /** Rows returned (or changed, for a cache write). */
  readonly rows: number;
  readonly durationMs: number;
  /** Set when the statement failed. */
  readonly error?: Error;
}

/** Receives statement events from an origin or a cache store. */
export type StatementListener = (event: QueryEvent) => void;

/** Counts bound parameters, a list bound to one placeholder counting as its items. */
export function countParams(params: readonly unknown[]): number {
  let n = 0;
  for (const p of params) n += Array.isArray(p) ? p.length : 1;
  return n;
}
