import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import pLimit, { type LimitFunction } from 'p-limit';
import type { CacheStore, VerifyReport } from './cache-store.js';
import type { QueryEvent } from './events.js';
import { decodeParams, normalizeKey, type KeyValue, type Row } from './codec.js';
import { makeEntityClass, type EntityConstructor } from './entity-class.js';
import { IsOfflineError, NotFoundError, NotLiveError, OriginError } from './errors.js';
import { InFlight } from './in-flight.js';
import { loadEntities } from './load-entities.js';
import { loadRelation } from './load-relation.js';
import { assertMode, describe, Mode } from './mode.js';
import type { Origin, SelectRequest } from './origin.js';
import type { CompiledColumn, CompiledEntity, EntityDef, Schema } from './schema.js';
import type { StoreCore } from './store-core.js';
import { createView, type View, type ViewOptions } from './view.js';
import { ViewState } from './view-state.js';

/** Options of a {@link Store}. */
export interface StoreOptions {
  /** Where data comes from; `null` for a store that only reads its cache. */
  origin?: Origin | null;
  /** The local cache. */
  cache: CacheStore;
  /** The default mode of views. Default: `FRESHEN` (`OFFLINE` when there is no origin). */
  mode?: Mode;
  /** Most keys in one origin statement (and in one cache statement); larger batches are split. Default 5000. */
  batchSize?: number;
  /** Most statements running on the origin at once, across all views. Default 4. */
  originConcurrency?: number;
  /** An origin statement not answered within this many ms fails with an `OriginError` (unreachable). Default 30000. */
  originTimeoutMs?: number;
}

/** A key as the cache stores it (composite keys as their canonical text, bigints as text), made canonical. */
function storedKey(entity: CompiledEntity, stored: unknown): KeyValue {
  if (entity.key.composite) return stored as string;
  return normalizeKey(entity, (entity.key.columns[0] as CompiledColumn).type === 'bigint' ? BigInt(stored as string) : stored);
}

/** The events of a store: `store.on('query', (e) => …)` hears every statement sent to the origin or the cache. */
export interface StoreEvents {
  query: [event: QueryEvent];
  /** Lookups of `kind` answered from the cache because the origin could not be reached. */
  fallback: [event: { kind: string; lookups: number; cause: unknown }];
}

/** Options of `store.refreshAll()`. */
export interface RefreshAllOptions {
  /** Called after each batch with the lookups done so far and in all. */
  onProgress?: (progress: { kind: string; done: number; total: number }) => void;
}

/** Statement counters of a store, counted where the statements are sent. */
export interface StoreStats {
  /** Statements sent to the origin. */
  readonly originQueries: number;
  /** Round trips to the origin (a whole include tree is one round trip of several statements). */
  readonly originRoundTrips: number;
  /** Statements sent to the cache database (reads, writes, BEGIN and COMMIT). */
  readonly cacheQueries: number;
  /** Lookups answered from the cache because the origin could not be reached (`OFFLINE_FALLBACK`). */
  readonly fallbacks: number;
  /**
   * Per entity (`A`), relation (`A.bs`) and custom query (`q:tag`): lookups the cache answered (`hits`) and
   * lookups it could not (`misses`, sent to the origin or failed offline). Lookups answered from a view's
   * memory are neither.
   */
  readonly lookups: Readonly<Record<string, { readonly hits: number; readonly misses: number }>>;
}

type State = 'new' | 'opening' | 'open' | 'closed';

/**
 * A schema bound to an origin and a cache. Make it with `createStore` or `openStore`; make a view
 * per unit of work with `store.view()`.
 */
export class Store<S extends Record<string, EntityDef> = Record<string, EntityDef>> extends EventEmitter<StoreEvents> {
  readonly #origin: Origin | null;
  readonly #cache: CacheStore;
  readonly #batchSize: number;
  readonly #limit: LimitFunction;
  readonly #core: StoreCore;
  readonly #inflight = new InFlight();
  readonly #running = new Set<Promise<unknown>>();
  #mode: Mode;
  #state: State = 'new';
  #opening: Promise<void> | undefined;
  #originQueries = 0;
  #fallbacks = 0;
  #originRoundTrips = 0;
  readonly #lookups: Record<string, { hits: number; misses: number }> = {};
  readonly #timeoutMs: number;
  /** Live statement counters. */
  readonly stats: StoreStats;

  constructor(schema: Schema<S>, options: StoreOptions) {
    super();
    if (schema === null || typeof schema !== 'object' || !('compiled' in schema)) {
      throw new TypeError(`createStore: expected a schema from defineSchema(), got ${describe(schema)}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`createStore: expected options, got ${describe(options)}`);
    const { origin = null, cache, mode, batchSize = 5000, originConcurrency = 4, originTimeoutMs = 30000 } = options;
    if (typeof originTimeoutMs !== 'number' || !(originTimeoutMs > 0)) throw new TypeError(`createStore: originTimeoutMs must be a positive number of ms, got ${describe(originTimeoutMs)}`);
    this.#timeoutMs = originTimeoutMs;
    origin?.setTimeout?.(originTimeoutMs);
    if (mode !== undefined) assertMode(mode, 'createStore options.mode');
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new TypeError(`createStore: batchSize must be a positive integer, got ${describe(batchSize)}`);
    if (!Number.isSafeInteger(originConcurrency) || originConcurrency < 1) {
      throw new TypeError(`createStore: originConcurrency must be a positive integer, got ${describe(originConcurrency)}`);
    }
    this.#origin = origin;
    this.#cache = cache;
    // One small object per statement (statements are per batch, not per row).
    const forward = (event: QueryEvent) => {
      if (this.listenerCount('query') > 0) this.emit('query', event);
    };
    origin?.observe?.(forward);
    cache.observe?.(forward);
    this.#mode = mode ?? (origin === null ? Mode.OFFLINE : Mode.FRESHEN);
    this.#batchSize = batchSize;
    this.#limit = pLimit(originConcurrency);
    const classes: EntityConstructor[] = schema.compiled.entities.map(makeEntityClass);
    const isLive = () => this.#state === 'open';
    this.#core = {
      schema: schema.compiled,
      cache,
      hasOrigin: origin !== null,
      classes,
      inflight: this.#inflight,
      track: (work) => {
        this.#running.add(work);
        const done = () => this.#running.delete(work);
        work.then(done, done);
        return work;
      },
      get live() {
        return isLive();
      },
      select: (request) => this.#select(request),
      count: (kind, hits, misses) => {
        const c = (this.#lookups[kind] ??= { hits: 0, misses: 0 });
        c.hits += hits;
        c.misses += misses;
      },
      fellBack: (kind, lookups, cause) => {
        this.#fallbacks += lookups;
        this.emit('fallback', { kind, lookups, cause });
      },
      batchSize,
      canTree: typeof origin?.selectTree === 'function' && (origin.treeInOneRoundTrip?.() ?? true),
      selectTree: (levels) =>
        this.#originCall(
          (o) => (o.selectTree as NonNullable<Origin['selectTree']>).call(o, levels),
          levels.length,
        ),
      selectSql: (entity, sql, params) => this.#originCall((o) => o.selectSql(entity, sql, params)),
      raw: (sql, params) => this.#originCall((o) => o.raw(sql, params)),
    };
    this.stats = Object.defineProperties({} as StoreStats, {
      originQueries: { enumerable: true, get: () => this.#originQueries },
      cacheQueries: { enumerable: true, get: () => cache.statementCount },
      originRoundTrips: { enumerable: true, get: () => this.#originRoundTrips },
      fallbacks: { enumerable: true, get: () => this.#fallbacks },
      lookups: { enumerable: true, get: () => this.#lookups },
      toJSON: { value: () => this.#statsSnapshot() },
      [inspect.custom]: { value: () => this.#statsSnapshot() },
    });
  }

  /** The default mode of new views. */
  get mode(): Mode {
    return this.#mode;
  }

  set mode(mode: Mode) {
    assertMode(mode, 'store.mode');
    this.#mode = mode;
  }

  /** True between a successful `open()` and `close()`. */
  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** Opens the origin and the cache (creating the cache's tables). Rejects with `NotLiveError` once closed. */
  open(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new NotLiveError('cannot open a closed store; create a new one'));
    this.#opening ??= this.#open();
    return this.#opening;
  }

  async #open(): Promise<void> {
    this.#state = 'opening';
    try {
      await this.#cache.open(this.#core.schema);
      await this.#origin?.open();
    } catch (error) {
      this.#opening = undefined;
      this.#state = 'new';
      await this.#cache.close().catch(() => undefined);
      throw error;
    }
    if ((this.#state as State) === 'closed') return;
    this.#state = 'open';
  }

  /**
   * A new view: a unit of work with its own identity map and loaders. Throws `NotLiveError` before
   * `open()` and after `close()`.
   */
  view(options: ViewOptions = {}): View<S> {
    if (this.#state !== 'open') {
      throw new NotLiveError(`cannot make a view: the store is ${this.#state === 'closed' ? 'closed' : 'not open yet (await store.open())'}`);
    }
    const mode = options.mode ?? this.#mode;
    assertMode(mode, 'store.view options.mode');
    return createView<S>(new ViewState(this.#core, mode));
  }

  /**
   * Opens every connection the origin may use (its pool's, and those reserved for one-trip tree loads)
   * now, instead of on first use: over a slow network a connection costs several round trips, which the
   * first requests of a server would otherwise pay. Optional; resolves at once without an origin.
   *
   * @example
   * await store.open();
   * await store.warmUp(); // then report ready
   */
  async warmUp(): Promise<void> {
    if (this.#state !== 'open') throw new NotLiveError('cannot warm up: the store is not open');
    await this.#origin?.warmUp?.();
  }

  /**
   * Checks the cache: every completeness mark backed by the rows it stands for, and the file's integrity.
   * With `{ repair: true }`, drops every mark that is not, so those lookups go to the origin again.
   *
   * @example
   * const report = await store.verify();
   * if (!report.ok) console.error(report.problems);
   */
  async verify(options?: { repair?: boolean }): Promise<VerifyReport> {
    if (this.#state !== 'open') throw new NotLiveError('cannot verify: the store is not open');
    return this.#cache.verify(options);
  }

  /**
   * Runs SQL on the local cache, read-only, so cached data can be analysed offline with any SQL.
   *
   * @example
   * const [{ n }] = await store.cacheSql('SELECT COUNT(*) AS n FROM b');
   */
  async cacheSql(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    if (this.#state !== 'open') throw new NotLiveError('cannot query the cache: the store is not open');
    if (typeof sql !== 'string' || sql.trim() === '') throw new TypeError(`cacheSql: sql must be a non-empty string, got ${describe(sql)}`);
    if (!Array.isArray(params)) throw new TypeError(`cacheSql: params must be an array, got ${describe(params)}`);
    return this.#cache.sql(sql, params);
  }

  /**
   * Re-reads from the origin every lookup the cache records complete (entities, relations, custom
   * queries), in batches, so everything is fresh before going offline.
   *
   * @example
   * await store.refreshAll({ onProgress: ({ done, total }) => console.log(`${done}/${total}`) });
   */
  async refreshAll(options: RefreshAllOptions = {}): Promise<{ lookups: number }> {
    if (this.#state !== 'open') throw new NotLiveError('cannot refresh: the store is not open');
    if (this.#origin === null) throw new IsOfflineError('cannot refresh: the store has no origin');
    const schema = this.#core.schema;
    const lookups = await this.#cache.completeLookups();
    const queries = await this.#cache.recordedQueries();
    const work: { kind: string; keys: KeyValue[]; run: (state: ViewState, keys: KeyValue[]) => Promise<unknown[]> }[] = [];
    for (const { kind, keys } of lookups) {
      const entity = schema.byName.get(kind);
      if (entity !== undefined) {
        work.push({ kind, keys: keys.map((k) => storedKey(entity, k)), run: (s, ks) => loadEntities(s, entity, Mode.FRESHEN, ks, true) });
        continue;
      }
      const rel = schema.relations.find((r) => r.id === kind);
      if (rel !== undefined) {
        const src = rel.source;
        work.push({ kind, keys: keys.map((k) => storedKey(src, k)), run: (s, ks) => loadRelation(s, rel, Mode.FRESHEN, ks) });
      }
    }
    const total = work.reduce((n, w) => n + w.keys.length, 0) + queries.length;
    let done = 0;
    const report = (kind: string) => options.onProgress?.({ kind, done, total });
    for (const w of work) {
      for (let i = 0; i < w.keys.length; i += this.#batchSize) {
        const chunk = w.keys.slice(i, i + this.#batchSize);
        // A view per chunk, so memory holds one chunk's rows at a time.
        const state = new ViewState(this.#core, Mode.FRESHEN);
        const results = await w.run(state, chunk);
        state.close();
        const failure = results.find((r) => r instanceof Error && !(r instanceof NotFoundError));
        if (failure !== undefined) throw failure;
        done += chunk.length;
        report(w.kind);
      }
    }
    for (const q of queries) {
      const entity = schema.byName.get(q.entity);
      if (entity === undefined) continue;
      const state = new ViewState(this.#core, Mode.FRESHEN);
      await state.runQuery(entity, q, q.sql, decodeParams(q.params), Mode.FRESHEN, { tag: q.kind.slice(2) });
      state.close();
      done++;
      report(q.kind);
    }
    return { lookups: done };
  }

  /** Closes what the store opened: the cache, and the origin unless the caller passed in its pool. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state !== 'new';
    this.#state = 'closed';
    if (!wasOpen) return;
    await this.#opening?.catch(() => undefined);
    // Batches already running finish (their answers are merged) before the databases close.
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    this.#inflight.clear();
    await Promise.all([this.#cache.close(), this.#origin?.close()]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #statsSnapshot() {
    return {
      originQueries: this.#originQueries,
      originRoundTrips: this.#originRoundTrips,
      cacheQueries: this.#cache.statementCount,
      fallbacks: this.#fallbacks,
      lookups: this.#lookups,
    };
  }

  /** One origin statement: under the concurrency bound, counted, its failure wrapped with the driver's message. */
  #originCall<T>(call: (origin: Origin) => Promise<T>, statements = 1): Promise<T> {
    const origin = this.#origin;
    if (origin === null) return Promise.reject(new IsOfflineError('the store has no origin'));
    return this.#limit(async () => {
      this.#originQueries += statements;
      this.#originRoundTrips++;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: 'ADBV_ORIGIN_TIMEOUT' }));
        }, this.#timeoutMs);
      });
      try {
        return await Promise.race([call(origin), timeout]);
      } catch (error) {
        throw new OriginError(`${origin.description}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    });
  }

  async #select(request: SelectRequest): Promise<Row[]> {
    const size = this.#batchSize;
    const run = (keys: SelectRequest['keys']) => this.#originCall((o) => o.select(keys === request.keys ? request : { ...request, keys }));
    if (request.keys.length <= size) return run(request.keys);
    const chunks: Promise<Row[]>[] = [];
    for (let i = 0; i < request.keys.length; i += size) chunks.push(run(request.keys.slice(i, i + size)));
    return (await Promise.all(chunks)).flat();
  }
}
