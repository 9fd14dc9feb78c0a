// What the lookup pipeline needs from its store: the schema, the cache, a bounded, counted origin, shared loads.
import type { CacheStore } from '../cache-store.js';
import type { InFlight } from './in-flight.js';
import type { SelectRequest, TreeLevel } from '../origin.js';
import type { CompiledEntity, CompiledSchema } from '../schema.js';
import type { Row } from '../values.js';

/**
 * @internal The store as the loads see it. The store builds one; every view and every load of the store
 * uses it, and it never reaches back into a view.
 */
export interface LoadContext {
  readonly schema: CompiledSchema;
  readonly cache: CacheStore;
  readonly hasOrigin: boolean;
  /** Loads on their way to the origin, shared across the store's views. */
  readonly inflight: InFlight;
  /** Keeps the store from closing its databases under a batch that is still running. */
  track<T>(work: Promise<T>): Promise<T>;
  /** True between `open()` and `close()`. */
  readonly live: boolean;
  /**
   * Reads from the origin, split into statements of at most the batch size, each run under the store's
   * concurrency bound; a failure rejects with an `OriginError` carrying the driver's error.
   */
  select(request: SelectRequest): Promise<Row[]>;
  /** Most keys bound in one origin statement. */
  readonly batchSize: number;
  /** True when the origin can read a whole include tree in one round trip. */
  readonly canTree: boolean;
  /** Reads tree levels in one origin round trip (counted as one statement per level), errors as `OriginError`. */
  selectTree(levels: readonly TreeLevel[]): Promise<Row[][]>;
  /** A custom query of `entity` rows on the origin, bounded, counted, errors as `OriginError`. */
  selectSql(entity: CompiledEntity, sql: string, params: readonly unknown[]): Promise<Row[]>;
  /** Caller SQL on the origin, read-only, bounded, counted, errors as `OriginError`. */
  raw(sql: string, params: readonly unknown[]): Promise<Row[]>;
  /**
   * True (the default, `cacheWrites: 'after-answer'`): a batch answers once the origin has, and its cache
   * write commits right after. False (`'before-answer'`): the write commits before the batch answers.
   */
  readonly answerFirst: boolean;
  /**
   * Follows a cache write of origin answers: `close()` and `flush()` wait for it; if it fails, it is counted
   * (`stats.cacheWriteFailures`), reported (an `error` event) and `onFail` runs (releasing fetch claims).
   * Returns the write, which still rejects on failure.
   */
  written(write: Promise<void>, onFail?: () => Promise<void>): Promise<void>;
  /** Waits for the cache writes of answers already given; true if there were any. */
  settleWrites(): Promise<boolean>;
  /** Counts lookups of a kind answered by the cache (hits) and not (misses: origin, or offline errors). */
  count(kind: string, hits: number, misses: number): void;
  /** Counts and reports lookups answered from the cache because the origin was unreachable. */
  fellBack(kind: string, lookups: number, cause: unknown): void;
}
