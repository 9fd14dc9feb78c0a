// What one kind of lookup (entity, relation, custom query) supplies to the lookup pipeline.
import type { KeyValue, Row } from '../values.js';

/**
 * One kind of lookup, as the pipeline (`pipeline.ts`) runs it: the kind says only how it reads the cache,
 * asks the origin and writes the cache; the pipeline decides when each happens.
 *
 * `T` is what one key's answer is made of: a row or `null` (absent) for an entity key, the group of
 * rows for a relation key, the rows in order for a custom query.
 */
export interface LookupKind<T> {
  /**
   * The lookup's one name, used by completeness marks, fetch claims, in-flight sharing, statistics and
   * messages: the entity name (`A`), the relation id (`A.bs`), or `q:` and a custom query's tag.
   */
  readonly id: string;
  /** In PREFER_CACHE and OFFLINE_FALLBACK, an answer recorded longer ago than this (ms) counts as missing. */
  readonly maxAge: number | undefined;
  /** Names keys in messages, e.g. `A 7, 8` or `A.bs for A 7`. */
  subject(keys: readonly KeyValue[]): string;
  /**
   * One cache statement: the answers the cache holds complete for `keys`, recorded at or after
   * `notBefore`. A key missing from the map is not complete there.
   */
  read(keys: readonly KeyValue[], notBefore?: number): Promise<Map<KeyValue, T>>;
  /** Asks the origin (split past the batch size by the store's origin gate). */
  select(keys: readonly KeyValue[]): Promise<Row[]>;
  /** Each asked key's answer in the origin's rows; throws (nothing is written) when they cannot be mapped exactly. */
  answers(keys: readonly KeyValue[], rows: Row[]): Map<KeyValue, T>;
  /**
   * Writes the origin's answer — rows and completeness marks in one transaction — stamped with the
   * moment the origin read began (`readAt`), which also releases the fetch claims on `keys`.
   */
  merge(keys: readonly KeyValue[], rows: readonly Row[], readAt: number): Promise<void>;
}

/** What the pipeline gives back for a batch of keys: each key's answer or error, and which answers are fresh. */
export interface Loaded<T> {
  readonly values: Map<KeyValue, T>;
  readonly errors: Map<KeyValue, unknown>;
  /** Keys answered by an origin read begun after the lookup's `since` (what FRESHEN may use); cache answers are not. */
  readonly fresh: Set<KeyValue>;
}
