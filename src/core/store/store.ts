// The store: a schema bound to an origin and a cache; it makes views and owns what they share.
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import type { CacheStore, VerifyReport } from '../cache-store.js';
import { IsOfflineError, NotLiveError } from '../errors.js';
import type { QueryEvent } from '../events.js';
import type { LoadContext } from '../load/context.js';
import { InFlight } from '../load/in-flight.js';
import { Lookups } from '../load/lookups.js';
import type { LocalChange, LocalChangeFilter } from '../local/local-change.js';
import { LocalChanges } from '../local/local-changes.js';
import { LocalLens } from '../local/local-lens.js';
import { listed } from '../local/listing.js';
import { OriginLookups } from '../local/origin-lookups.js';
import { changeSql } from '../local/sql-text.js';
import { normalizeKey } from '../codec.js';
import { assertMode, Mode } from '../mode.js';
import type { Origin } from '../origin.js';
import type { CompiledEntity, EntityDef, Schema } from '../schema.js';
import { describe, type KeyValue, type Row } from '../values.js';
import { makeEntityClass } from '../view/entity-class.js';
import type { ViewOptions } from '../view/options.js';
import { createView, type View } from '../view/view.js';
import { ViewState, type ViewDeps } from '../view/view-state.js';
import { OriginGate } from './origin-gate.js';
import { refreshAll, type RefreshAllOptions } from './refresh-all.js';

export type { RefreshAllOptions } from './refresh-all.js';

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
  /**
   * When origin answers are written to the cache. `'after-answer'` (default): a batch answers as soon as the
   * origin has, and its rows and completeness marks commit right after, in one transaction, off the
   * caller's path; until then the answer is shared in this process and other processes wait on its fetch
   * claim. A crash in between loses that write — and no mark without its rows: the lookups are simply not
   * complete in the cache. `'before-answer'`: the write commits before the batch answers, so whatever a
   * caller was answered is in the file even if the process dies right after.
   */
  cacheWrites?: 'after-answer' | 'before-answer';
}

/** The events of a store: `store.on('query', (e) => …)` hears every statement sent to the origin or the cache. */
export interface StoreEvents {
  query: [event: QueryEvent];
  /** Lookups of `kind` answered from the cache because the origin could not be reached. */
  fallback: [event: { kind: string; lookups: number; cause: unknown }];
  /**
   * A cache write of origin answers failed (after they were given, with `cacheWrites: 'after-answer'`):
   * nothing of it is marked complete, and those lookups go to the origin again.
   */
  error: [error: Error];
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
  /** Cache writes of origin answers that failed (each also an `error` event). */
  readonly cacheWriteFailures: number;
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
  readonly #gate: OriginGate;
  readonly #views: ViewDeps;
  /** The deps of views opened with `{ local: false }` (made on first use). */
  #originViews: ViewDeps | undefined;
  readonly #local: LocalChanges;
  readonly #inflight = new InFlight();
  readonly #running = new Set<Promise<unknown>>();
  #mode: Mode;
  #state: State = 'new';
  #opening: Promise<void> | undefined;
  #fallbacks = 0;
  #cacheWriteFailures = 0;
  /** Cache writes of origin answers not yet settled (what `flush()` waits for). */
  readonly #writes = new Set<Promise<void>>();
  readonly #lookups: Record<string, { hits: number; misses: number }> = {};
  /** Live statement counters. */
  readonly stats: StoreStats;

  constructor(schema: Schema<S>, options: StoreOptions) {
    super();
    if (schema === null || typeof schema !== 'object' || !('compiled' in schema)) {
      throw new TypeError(`createStore: expected a schema from defineSchema(), got ${describe(schema)}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`createStore: expected options, got ${describe(options)}`);
    const { origin = null, cache, mode, batchSize = 5000, originConcurrency = 4, originTimeoutMs = 30000, cacheWrites = 'after-answer' } = options;
    if (cacheWrites !== 'after-answer' && cacheWrites !== 'before-answer') {
      throw new TypeError(`createStore: cacheWrites must be 'after-answer' or 'before-answer', got ${describe(cacheWrites)}`);
    }
    if (typeof originTimeoutMs !== 'number' || !(originTimeoutMs > 0)) throw new TypeError(`createStore: originTimeoutMs must be a positive number of ms, got ${describe(originTimeoutMs)}`);
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
    const gate = (this.#gate = new OriginGate(origin, { concurrency: originConcurrency, timeoutMs: originTimeoutMs, batchSize }));
    const isLive = () => this.#state === 'open';
    const ctx: LoadContext = {
      schema: schema.compiled,
      cache,
      hasOrigin: origin !== null,
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
      select: (request) => gate.select(request),
      count: (kind, hits, misses) => {
        const c = (this.#lookups[kind] ??= { hits: 0, misses: 0 });
        c.hits += hits;
        c.misses += misses;
      },
      fellBack: (kind, lookups, cause) => {
        this.#fallbacks += lookups;
        this.emit('fallback', { kind, lookups, cause });
      },
      answerFirst: cacheWrites === 'after-answer',
      settleWrites: async () => {
        if (this.#writes.size === 0) return false;
        await this.flush();
        return true;
      },
      written: (write, onFail) => {
        const tracked = write.then(
          () => undefined,
          async (error: unknown) => {
            this.#cacheWriteFailures++;
            await onFail?.().catch(() => undefined);
            // An 'error' event with no listener would throw: the failure is still counted in stats.
            if (this.listenerCount('error') > 0) this.emit('error', error instanceof Error ? error : new Error(String(error)));
          },
        );
        this.#writes.add(tracked);
        void tracked.finally(() => this.#writes.delete(tracked));
        // The caller waits for the write before answering: it must not wait for company.
        if (cacheWrites !== 'after-answer') this.#cache.hurry();
        ctx.track(tracked);
        return write;
      },
      batchSize,
      canTree: typeof origin?.selectTree === 'function' && (origin.treeInOneRoundTrip?.() ?? true),
      selectTree: (levels) => gate.call((o) => (o.selectTree as NonNullable<Origin['selectTree']>).call(o, levels), levels.length),
      selectSql: (entity, sql, params) => gate.call((o) => o.selectSql(entity, sql, params)),
      raw: (sql, params) => gate.call((o) => o.raw(sql, params)),
    };
    this.#local = new LocalChanges(cache);
    this.#views = { ctx, lookups: new Lookups(ctx), classes: schema.compiled.entities.map(makeEntityClass), lens: new LocalLens(this.#local, 'local') };
    this.stats = Object.defineProperties({} as StoreStats, {
      originQueries: { enumerable: true, get: () => gate.statements },
      cacheQueries: { enumerable: true, get: () => cache.statementCount },
      originRoundTrips: { enumerable: true, get: () => gate.roundTrips },
      fallbacks: { enumerable: true, get: () => this.#fallbacks },
      cacheWriteFailures: { enumerable: true, get: () => this.#cacheWriteFailures },
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
      await this.#cache.open(this.#views.ctx.schema);
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
    if (options === null || typeof options !== 'object') throw new TypeError(`store.view: expected options, got ${describe(options)}`);
    const mode = options.mode ?? this.#mode;
    assertMode(mode, 'store.view options.mode');
    const { local = true } = options;
    if (typeof local !== 'boolean') throw new TypeError(`store.view: options.local must be a boolean, got ${describe(local)}`);
    if (local) return createView<S>(new ViewState(this.#views, mode));
    const ctx = this.#views.ctx;
    this.#originViews ??= { ...this.#views, lookups: new OriginLookups(ctx, this.#local), lens: new LocalLens(this.#local, 'origin') };
    return createView<S>(new ViewState(this.#originViews, mode));
  }

  /**
   * Opens every connection the origin may use (its pool's, and those reserved for one-trip tree loads)
   * now, instead of on first use: over a slow network a connection costs several round trips, which the
   * first requests of a server would otherwise pay. Optional; resolves at once without an origin. Rejects
   * with an `OriginError` (carrying the driver's error) when the origin cannot be reached, or does not
   * answer within `originTimeoutMs`.
   *
   * @example
   * await store.open();
   * await store.warmUp(); // then report ready
   */
  async warmUp(): Promise<void> {
    if (this.#state !== 'open') throw new NotLiveError('cannot warm up: the store is not open');
    await this.#gate.warmUp();
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
    await this.flush();
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
    // What this store has answered is in the cache by the time caller SQL reads it.
    await this.flush();
    return this.#cache.sql(sql, params);
  }

  /**
   * Re-reads from the origin every lookup the cache records complete (entities, relations, custom
   * queries, whole tables read by `X.all()`), in batches, so everything is fresh before going offline.
   *
   * @example
   * await store.refreshAll({ onProgress: ({ done, total }) => console.log(`${done}/${total}`) });
   */
  async refreshAll(options: RefreshAllOptions = {}): Promise<{ lookups: number }> {
    if (this.#state !== 'open') throw new NotLiveError('cannot refresh: the store is not open');
    if (this.#origin === null) throw new IsOfflineError('cannot refresh: the store has no origin');
    // Every lookup already answered is refreshed too: its marks first.
    await this.flush();
    return refreshAll(this.#views.ctx.schema, this.#cache, this.#batchSize, () => new ViewState(this.#views, Mode.FRESHEN), options);
  }

  /**
   * Every local change kept in the cache file (made by any store on it), in the order made: entity, key,
   * kind, the origin row it was made against, the row now at the origin if a load brought one since, the
   * local row, and whether they conflict. With `{ sql: true }`, the changes as INSERT/UPDATE/DELETE
   * statements for the origin's tables (MySQL/MariaDB), for the caller to apply elsewhere: the library
   * never sends them.
   *
   * @example
   * for (const c of await store.localChanges()) if (c.conflict) console.warn(c.entity, c.key, c.origin, c.local);
   * console.log((await store.localChanges({ sql: true })).join('\n'));
   */
  localChanges(options?: { sql?: false }): Promise<LocalChange[]>;
  localChanges(options: { sql: true }): Promise<string[]>;
  async localChanges(options: { sql?: boolean } = {}): Promise<LocalChange[] | string[]> {
    if (this.#state !== 'open') throw new NotLiveError('cannot list local changes: the store is not open');
    if (options === null || typeof options !== 'object') throw new TypeError(`localChanges: expected options, got ${describe(options)}`);
    const schema = this.#views.ctx.schema;
    // What the loads already answered brought from the origin counts: their writes first.
    await this.flush();
    const set = await this.#cache.localChanges();
    const changes = set.changes.map((c) => listed(schema, c));
    if (options.sql !== true) return changes;
    return changes.map((c) => changeSql(schema.byName.get(c.entity) as CompiledEntity, c));
  }

  /**
   * Drops local changes: all of them, those of one entity (and keys), or those a test picks. Each row
   * shows the origin's version again (as last loaded; lookups that may have counted on it go to the origin
   * again). Resolves to how many were dropped.
   *
   * @example
   * await store.discardLocalChanges({ entity: 'B', keys: [5] });
   * await store.discardLocalChanges((c) => c.conflict);
   */
  async discardLocalChanges(filter?: LocalChangeFilter): Promise<number> {
    if (this.#state !== 'open') throw new NotLiveError('cannot discard local changes: the store is not open');
    await this.flush();
    if (filter === undefined) return this.#cache.discardLocal();
    const schema = this.#views.ctx.schema;
    let targets: { entity: string; key: KeyValue }[];
    if (typeof filter === 'function') {
      const set = await this.#cache.localChanges();
      targets = set.changes.filter((c) => filter(listed(schema, c))).map((c) => ({ entity: c.entity, key: c.key }));
    } else {
      if (filter === null || typeof filter !== 'object') throw new TypeError(`discardLocalChanges: expected { entity, keys? } or a function, got ${describe(filter)}`);
      const entity = schema.byName.get(filter.entity);
      if (entity === undefined) throw new TypeError(`discardLocalChanges: unknown entity ${describe(filter.entity)}; known: ${[...schema.byName.keys()].join(', ')}`);
      if (filter.keys !== undefined && !Array.isArray(filter.keys)) throw new TypeError(`discardLocalChanges: keys must be an array, got ${describe(filter.keys)}`);
      const set = await this.#cache.localChanges();
      const keys = filter.keys === undefined ? undefined : new Set(filter.keys.map((k) => normalizeKey(entity, k)));
      targets = set.changes.filter((c) => c.entity === entity.name && (keys === undefined || keys.has(c.key))).map((c) => ({ entity: c.entity, key: c.key }));
    }
    return targets.length === 0 ? 0 : this.#cache.discardLocal(targets);
  }

  /**
   * Waits until every cache write of answers already given has settled (committed, or failed and
   * reported): after it, whatever this store answered from the origin is in the cache file.
   *
   * @example
   * await view.A(1);
   * await store.flush(); // A 1 is now complete in the file, for other processes and for OFFLINE
   */
  async flush(): Promise<void> {
    while (this.#writes.size > 0) {
      this.#cache.hurry();
      await Promise.allSettled([...this.#writes]);
    }
  }

  /** Closes what the store opened: the cache, and the origin unless the caller passed in its pool. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state !== 'new';
    this.#state = 'closed';
    if (!wasOpen) return;
    await this.#opening?.catch(() => undefined);
    // Batches already running finish (their answers are merged) before the databases close.
    while (this.#running.size > 0) {
      this.#cache.hurry();
      await Promise.allSettled([...this.#running]);
    }
    this.#inflight.clear();
    await Promise.all([this.#cache.close(), this.#origin?.close()]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #statsSnapshot() {
    return {
      originQueries: this.#gate.statements,
      originRoundTrips: this.#gate.roundTrips,
      cacheQueries: this.#cache.statementCount,
      fallbacks: this.#fallbacks,
      cacheWriteFailures: this.#cacheWriteFailures,
      lookups: this.#lookups,
    };
  }
}
