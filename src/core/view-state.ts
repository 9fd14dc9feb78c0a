import DataLoader from 'dataloader';
import { AnswerCache } from './answer-cache.js';
import { fetchClaimed } from './claimed-fetch.js';
import { encodeParams, normalizeKey, type KeyValue, type Row } from './codec.js';
import { ENTITY, FRESH, ROW, VIEW, type EntityObject } from './entity-class.js';
import { IsOfflineError, isUnreachable, NotFoundError, NotLiveError } from './errors.js';
import { compileInclude, everyNode, type IncludeNode } from './include.js';
import { loadTree } from './load-tree.js';
import { displayKey, loadEntities } from './load-entities.js';
import { loadRelation, type RelationValue } from './load-relation.js';
import { assertMode, capMode, describe, Mode, MODE_COUNT, modeRank, readsCacheFirst } from './mode.js';
import type { CompiledEntity, CompiledRelation } from './schema.js';
import type { StoreCore } from './store-core.js';
import { Tick } from './tick.js';

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

type Loader = DataLoader<KeyValue, unknown>;
const MODES = MODE_COUNT;

/**
 * @internal The state of one view (unit of work): its identity maps and its DataLoaders, one per entity and
 * per relation and mode, so that lookups of one kind made in one tick become one batch.
 */
export class ViewState {
  closed = false;
  mode: Mode;
  /** When the view was made, on the store's in-flight clock: FRESHEN shares only loads begun later. */
  readonly born: number;
  readonly core: StoreCore;
  /** One object per row: entity index → key → object. */
  readonly known: Map<KeyValue, EntityObject>[];
  /** Keys known absent: entity index → key → whether the origin said so in this view. */
  readonly absent: Map<KeyValue, boolean>[];
  readonly #entityLoaders: (Loader | undefined)[] = [];
  readonly #relationLoaders: (Loader | undefined)[] = [];
  /** The relation loaders' caches, readable (DataLoader has no `has`). */
  readonly #relationAnswers: (AnswerCache<KeyValue, unknown> | undefined)[] = [];
  readonly #queries = new Map<string, Promise<unknown>>();
  readonly #tick = new Tick();

  constructor(core: StoreCore, mode: Mode) {
    this.core = core;
    this.mode = mode;
    this.born = core.inflight.next();
    this.known = core.schema.entities.map(() => new Map());
    this.absent = core.schema.entities.map(() => new Map());
  }

  /** `view.X(key)`: checks the key now, so a bad key fails the caller and not the whole batch. */
  lookup(entity: CompiledEntity, key: unknown, mode: Mode = this.mode): Promise<EntityObject> {
    if (this.closed || !this.core.live) return Promise.reject(this.#notLive(`look up ${entity.name}`));
    let normalized: KeyValue;
    try {
      normalized = normalizeKey(entity, key);
    } catch (error) {
      return Promise.reject(error);
    }
    const held = this.held(entity, normalized, mode);
    if (held !== undefined) return Promise.resolve(held);
    return this.#entityLoader(entity, mode).load(normalized) as Promise<EntityObject>;
  }

  /**
   * @internal The object the view holds for `key` if it answers a lookup under `mode` (FRESHEN takes only
   * rows read from the origin within the view).
   */
  held(entity: CompiledEntity, key: KeyValue, mode: Mode): EntityObject | undefined {
    const obj = (this.known[entity.index] as Map<KeyValue, EntityObject>).get(key);
    return obj !== undefined && (mode !== Mode.FRESHEN || obj[FRESH]) ? obj : undefined;
  }

  /** @internal Whether the view knows `key` absent, in a way that answers a lookup under `mode`. */
  heldAbsent(entity: CompiledEntity, key: KeyValue, mode: Mode): boolean {
    const fresh = (this.absent[entity.index] as Map<KeyValue, boolean>).get(key);
    return fresh !== undefined && (mode !== Mode.FRESHEN || fresh);
  }

  /** `view.X(key, { include })`. */
  async lookupWith(entity: CompiledEntity, key: unknown, options: ({ include?: object } & PreloadOptions) | undefined): Promise<EntityObject> {
    // With an include tree it is a `many` of one key, so the entity travels in the tree's round trip.
    if (options?.include !== undefined) return (await this.many(entity, [key], options))[0] as EntityObject;
    return this.lookup(entity, key);
  }

  /** `view.X.many(keys)`: one batch; results in key order; missing keys reject together (or give null). */
  async many(entity: CompiledEntity, keys: readonly unknown[], options: ManyOptions = {}): Promise<(EntityObject | null)[]> {
    this.assertLive(`look up ${entity.name}`);
    if (!Array.isArray(keys)) throw new TypeError(`${entity.name}.many: expected an array of keys, got ${describe(keys)}`);
    const normalized = keys.map((k) => normalizeKey(entity, k));
    const nodes = options.include === undefined ? undefined : compileInclude(entity, options.include);
    const oneTrip = nodes !== undefined && this.#oneTrip(strategyOf(options), nodes);
    const results = oneTrip ? await this.#rootsWithTree(entity, normalized, nodes) : await this.#entityLoader(entity, this.mode).loadMany(normalized);
    const missing: KeyValue[] = [];
    const out: (EntityObject | null)[] = new Array(results.length);
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r instanceof NotFoundError) {
        missing.push(normalized[i] as KeyValue);
        out[i] = null;
      } else if (r instanceof Error) throw r;
      else out[i] = r as EntityObject;
    }
    if (missing.length > 0 && options.nullForMissing !== true) throw new NotFoundError(entity.name, missing.map((k) => displayKey(entity, k)));
    if (options.include !== undefined && !oneTrip) await this.preload(out.filter((o): o is EntityObject => o !== null), options.include, options);
    return out;
  }

  /** Whether an include tree can go to the origin in one round trip under the view's mode. */
  #oneTrip(strategy: 'tree' | 'levels', nodes: readonly IncludeNode[]): boolean {
    const mode = this.mode;
    return strategy === 'tree' && this.core.canTree && (mode === Mode.FRESHEN || mode === Mode.PREFER_CACHE) && everyNode(nodes, (n) => capMode(mode, n.rel.mode) === mode);
  }

  /**
   * `many(keys, { include })` in one round trip: roots the view holds or the cache answers are taken from
   * there, and the rest are fetched as the first level of the include tree's own round trip.
   */
  async #rootsWithTree(entity: CompiledEntity, keys: readonly KeyValue[], nodes: readonly IncludeNode[]): Promise<(EntityObject | Error)[]> {
    const mode = this.mode;
    const known = this.known[entity.index] as Map<KeyValue, EntityObject>;
    const absent = this.absent[entity.index] as Map<KeyValue, boolean>;
    const wanted = new Set<KeyValue>();
    for (const key of keys) if (!this.heldAbsent(entity, key, mode) && this.held(entity, key, mode) === undefined) wanted.add(key);
    let fetch = [...wanted];
    if (mode !== Mode.FRESHEN && fetch.length > 0) {
      const notBefore = entity.maxAge === undefined ? undefined : Date.now() - entity.maxAge;
      const read = await this.core.cache.readEntities(entity, fetch, notBefore);
      this.adopt(entity, read.rows, false);
      this.markAbsent(entity, read.absentKeys, false);
      fetch = fetch.filter((k) => !known.has(k) && !absent.has(k));
      this.core.count(entity.name, wanted.size - fetch.length, fetch.length);
    } else this.core.count(entity.name, 0, fetch.length);
    const fetching = new Set(fetch);
    const roots = new Set<EntityObject>();
    for (const key of keys) {
      const obj = known.get(key);
      if (obj !== undefined && !fetching.has(key)) roots.add(obj);
    }
    await this.core.track(loadTree(this, [...roots], nodes, mode, { entity, keys: fetch }));
    return keys.map((key): EntityObject | Error => known.get(key) ?? new NotFoundError(entity.name, [displayKey(entity, key)]));
  }

  /**
   * Loads an include tree level by level: each relation of a level is one batch over all its parents
   * (one cache statement and at most one origin statement per chunk), then its children's level.
   */
  async preload(objects: readonly EntityObject[], include: unknown, options: PreloadOptions = {}): Promise<void> {
    this.assertLive('preload');
    if (!Array.isArray(objects)) throw new TypeError(`preload: expected an array of entities, got ${describe(objects)}`);
    const strategy = strategyOf(options);
    if (objects.length === 0) return;
    const entity = this.#entityOf(objects[0], 'preload');
    for (const o of objects) if (this.#entityOf(o, 'preload') !== entity) throw new TypeError(`preload: all entities must be of one kind; got ${entity.name} and ${o[ENTITY].name}`);
    const nodes = compileInclude(entity, include);
    if (this.#oneTrip(strategy, nodes)) await this.core.track(loadTree(this, objects, nodes, this.mode));
    else await this.#preloadLevel(objects, nodes);
  }

  /** @internal Gives a relation lookup its answer, so awaiting it later sends nothing. */
  primeRelation(rel: CompiledRelation, key: KeyValue, value: unknown): void {
    this.#relationLoader(rel, capMode(this.mode, rel.mode)).prime(key, value);
  }

  /** @internal Records keys as absent in this view (`fresh`: the origin said so within the view). */
  markAbsent(entity: CompiledEntity, keys: readonly KeyValue[], fresh = true): void {
    const known = this.known[entity.index] as Map<KeyValue, EntityObject>;
    const absent = this.absent[entity.index] as Map<KeyValue, boolean>;
    for (const key of keys) {
      if (fresh) known.delete(key);
      if (fresh || !absent.has(key)) absent.set(key, fresh);
    }
  }

  async #preloadLevel(objects: readonly EntityObject[], nodes: readonly IncludeNode[]): Promise<void> {
    await Promise.all(
      nodes.map(async (node) => {
        // A dangling belongsTo does not fail the preload: awaiting that relation rejects, as in a tree load.
        const values = await Promise.all(
          objects.map((o) => this.follow(node.rel, o).catch((e: unknown) => (e instanceof NotFoundError ? null : Promise.reject(e)))),
        );
        if (node.children.length === 0) return;
        const next = new Set<EntityObject>();
        for (const v of values) {
          if (Array.isArray(v)) for (const o of v) next.add(o as EntityObject);
          else if (v !== null && typeof v === 'object' && ENTITY in v) next.add(v as EntityObject);
        }
        if (next.size > 0) await this.#preloadLevel([...next], node.children);
      }),
    );
  }

  /** `view.query(entity, spec)`: asked at most once per view (and mode) for the same tag and params. */
  query(entityName: string, spec: QuerySpec): Promise<unknown> {
    try {
      this.assertLive('run a query');
      const entity = this.core.schema.byName.get(entityName);
      if (entity === undefined) throw new TypeError(`query: unknown entity ${describe(entityName)}; known: ${[...this.core.schema.byName.keys()].join(', ')}`);
      if (spec === null || typeof spec !== 'object') throw new TypeError(`query: expected { tag, sql, params }, got ${describe(spec)}`);
      if (typeof spec.tag !== 'string' || spec.tag === '') throw new TypeError(`query: tag must be a non-empty string, got ${describe(spec.tag)}`);
      if (typeof spec.sql !== 'string' || spec.sql.trim() === '') throw new TypeError(`query ${spec.tag}: sql must be a non-empty string, got ${describe(spec.sql)}`);
      if (spec.mode !== undefined) assertMode(spec.mode, `query ${spec.tag}: mode`);
      const params = spec.params ?? [];
      const key = { kind: `q:${spec.tag}`, params: encodeParams(params, `query ${spec.tag}`) };
      const mode = capMode(this.mode, spec.mode);
      const memo = `${mode}|${key.kind}|${key.params}`;
      let answer = this.#queries.get(memo);
      if (answer === undefined) {
        answer = this.core.track(this.runQuery(entity, key, spec.sql, params, mode, spec));
        this.#queries.set(memo, answer);
        answer.catch(() => this.#queries.delete(memo));
      }
      return answer;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** @internal Runs a custom query under `mode` (also used by `refreshAll`). */
  async runQuery(
    entity: CompiledEntity,
    key: { kind: string; params: string },
    sql: string,
    params: readonly unknown[],
    mode: Mode,
    spec: Pick<QuerySpec, 'tag' | 'offlineFallback' | 'maxAge'>,
  ): Promise<unknown> {
    const askedAt = Date.now();
    const notBefore = readsCacheFirst(mode) && spec.maxAge !== undefined ? askedAt - spec.maxAge : undefined;
    // What another process's answer must be at least as new as, to stand for this lookup.
    const since = mode === Mode.FRESHEN ? askedAt : notBefore;
    if (mode !== Mode.FRESHEN) {
      const rows = await this.core.cache.readQuery(entity, key, notBefore);
      this.core.count(key.kind, rows === undefined ? 0 : 1, rows === undefined ? 1 : 0);
      if (rows !== undefined) return Object.freeze(this.adopt(entity, rows, false));
    } else this.core.count(key.kind, 0, 1);
    if (mode === Mode.OFFLINE || !this.core.hasOrigin) {
      if ('offlineFallback' in spec) return spec.offlineFallback;
      throw new IsOfflineError(`query ${spec.tag} ${key.params} is not in the cache and ${this.core.hasOrigin ? 'the view is offline' : 'the store has no origin'}`);
    }
    const shared = await this.core.inflight.share(key.kind, [key.params], mode === Mode.FRESHEN ? this.born : 0, (mine) =>
      fetchClaimed<Row[]>(
        this.core,
        { kind: key.kind, since: since ?? 0 },
        mine,
        async () => {
          const rows = await this.core.selectSql(entity, sql, params);
          const first = rows[0];
          if (first !== undefined) {
            const missing = entity.columns.filter((c) => !(c.name in first)).map((c) => c.name);
            if (missing.length > 0) {
              throw new TypeError(`query ${spec.tag}: rows are not full rows of ${entity.name}; missing column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (select ${entity.table}.* or every column)`);
            }
            if (rows.some((r) => entity.key.of(r) === null)) throw new TypeError(`query ${spec.tag}: a row has a NULL key column`);
          }
          await this.core.cache.merge({ entity, rows, loadedAt: Date.now(), query: { ...key, sql } });
          return new Map([[key.params, rows]]);
        },
        async () => {
          const rows = await this.core.cache.readQuery(entity, key, since);
          return rows === undefined ? new Map() : new Map([[key.params, rows]]);
        },
      ),
    );
    const error = shared.errors.get(key.params);
    if (error !== undefined && mode === Mode.OFFLINE_FALLBACK && isUnreachable(error)) {
      // The origin is unreachable: answer as OFFLINE would, from the cache whatever its age.
      const rows = await this.core.cache.readQuery(entity, key);
      if (rows !== undefined) {
        this.core.fellBack(key.kind, 1, error);
        return Object.freeze(this.adopt(entity, rows, false));
      }
      if ('offlineFallback' in spec) return spec.offlineFallback;
      throw new IsOfflineError(`query ${spec.tag} ${key.params} is not in the cache and the origin cannot be reached`, { cause: error });
    }
    if (error !== undefined) throw error;
    const objects = this.adopt(entity, shared.values.get(key.params) ?? [], shared.fresh.has(key.params));
    return Object.freeze(objects);
  }

  /** `view.refresh(obj[, relation])`: reads one lookup from the origin now, whatever the mode. */
  async refresh(obj: EntityObject, relationName?: string): Promise<unknown> {
    this.assertLive('refresh');
    const entity = this.#entityOf(obj, 'refresh');
    if (relationName === undefined) return this.#refreshEntity(entity, entity.key.of(obj[ROW]) as KeyValue);
    const rel = entity.relations.find((r) => r.name === relationName);
    if (rel === undefined) throw new TypeError(`refresh: ${entity.name} has no relation ${describe(relationName)}`);
    if (rel.kind === 'belongsTo') {
      const fk = rel.foreignKey.of(obj[ROW]);
      return fk === null ? null : this.#refreshEntity(rel.target, fk);
    }
    const key = entity.key.of(obj[ROW]) as KeyValue;
    const [value] = await loadRelation(this, rel, Mode.FRESHEN, [key], true);
    if (value instanceof Error) throw value;
    for (let m = 0; m < MODES; m++) this.#relationLoaders[rel.index * MODES + m]?.clear(key).prime(key, value);
    return value;
  }

  async #refreshEntity(entity: CompiledEntity, key: KeyValue): Promise<EntityObject> {
    if (!this.core.hasOrigin) throw new IsOfflineError(`cannot refresh ${entity.name} ${String(key)}: the store has no origin`);
    const [result] = await loadEntities(this, entity, Mode.FRESHEN, [key], true);
    for (let m = 0; m < MODES; m++) this.#entityLoaders[entity.index * MODES + m]?.clear(key);
    if (result instanceof Error) throw result;
    return result as EntityObject;
  }

  #entityOf(obj: unknown, what: string): CompiledEntity {
    if (obj === null || typeof obj !== 'object' || !(ENTITY in obj)) throw new TypeError(`${what}: expected an entity object of this view, got ${describe(obj)}`);
    if ((obj as EntityObject)[VIEW] !== this) throw new TypeError(`${what}: the ${(obj as EntityObject)[ENTITY].name} belongs to another view`);
    return (obj as EntityObject)[ENTITY];
  }

  /** The value of a relation getter on `obj`. */
  follow(rel: CompiledRelation, obj: EntityObject): Promise<unknown> {
    if (this.closed || !this.core.live) return Promise.reject(this.#notLive(`read ${rel.id}`));
    const mode = capMode(this.mode, rel.mode);
    const row = obj[ROW];
    if (rel.kind === 'belongsTo') {
      const fk = rel.foreignKey.of(row);
      if (fk === null) return Promise.resolve(null);
      const held = this.held(rel.target, fk, mode);
      if (held !== undefined) return Promise.resolve(held);
      const found = this.#entityLoader(rel.target, mode).load(fk);
      if (!rel.hasFallback) return found;
      return found.catch((error: unknown) => {
        if (error instanceof IsOfflineError) return rel.offlineFallback;
        throw error;
      });
    }
    const key = rel.source.key.of(row) as KeyValue;
    const loader = this.#relationLoader(rel, mode);
    const answers = this.#relationAnswers[rel.index * MODES + modeRank(mode)] as AnswerCache<KeyValue, unknown>;
    return answers.arrived(key) ? Promise.resolve(answers.value(key)) : loader.load(key);
  }

  /**
   * Makes rows known to the view: an existing object for the same key is kept (one object per row) and
   * takes the row's values when they come from the origin.
   */
  adopt(entity: CompiledEntity, rows: readonly Row[], fresh: boolean): EntityObject[] {
    const known = this.known[entity.index] as Map<KeyValue, EntityObject>;
    const absent = this.absent[entity.index] as Map<KeyValue, boolean>;
    const Cls = this.core.classes[entity.index] as new (v: ViewState, r: Row, f: boolean) => EntityObject;
    const keyOf = entity.key.of;
    const out: EntityObject[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Row;
      const key = keyOf(row) as KeyValue;
      let obj = known.get(key);
      if (obj === undefined) {
        obj = new Cls(this, row, fresh);
        known.set(key, obj);
        if (absent.size > 0) absent.delete(key);
      } else if (fresh) {
        obj[ROW] = row;
        obj[FRESH] = true;
      }
      out[i] = obj;
    }
    return out;
  }

  assertLive(what: string): void {
    if (this.closed || !this.core.live) throw this.#notLive(what);
  }

  throwClosed(what: string): never {
    throw this.#notLive(what);
  }

  close(): void {
    this.closed = true;
    for (const l of this.#entityLoaders) l?.clearAll();
    for (const l of this.#relationLoaders) l?.clearAll();
  }

  #notLive(what: string): NotLiveError {
    return new NotLiveError(`cannot ${what}: ${this.closed ? 'the view is closed' : 'the store is not open'}`);
  }

  #entityLoader(entity: CompiledEntity, mode: Mode): Loader {
    const slot = entity.index * MODES + modeRank(mode);
    return (this.#entityLoaders[slot] ??= this.#makeLoader((keys) => loadEntities(this, entity, mode, keys)));
  }

  #relationLoader(rel: CompiledRelation, mode: Mode): Loader {
    const slot = rel.index * MODES + modeRank(mode);
    return (this.#relationLoaders[slot] ??= this.#makeLoader((keys) => loadRelation(this, rel, mode, keys), (this.#relationAnswers[slot] = new AnswerCache())));
  }

  /**
   * @internal The answer (or the load in progress) this view already has for a relation lookup under the
   * relation's effective mode, if any: what a tree load need not ask again.
   */
  knownRelation(rel: CompiledRelation, key: KeyValue): Promise<unknown> | undefined {
    return this.#relationAnswers[rel.index * MODES + modeRank(capMode(this.mode, rel.mode))]?.get(key);
  }

  /**
   * Wraps a batch function so that transient failures (origin down, offline) are not remembered by the
   * loader: the same lookup may succeed later in the same view. Absence is remembered: it is an answer.
   */
  #makeLoader(batch: (keys: readonly KeyValue[]) => Promise<(RelationValue | EntityObject | Error)[]>, cacheMap?: Map<KeyValue, Promise<unknown>>): Loader {
    const loader: Loader = new DataLoader<KeyValue, unknown>(async (keys) => {
      const results = await this.#tick.together(this.core.track(batch(keys)));
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        if (r instanceof Error && !(r instanceof NotFoundError)) loader.clear(keys[i] as KeyValue);
      }
      return results;
    }, cacheMap === undefined ? { batchScheduleFn: this.#tick.schedule } : { cacheMap, batchScheduleFn: this.#tick.schedule });
    return loader;
  }
}

/** The preload strategy asked for (default `tree`); anything else is a TypeError naming it. */
function strategyOf(options: PreloadOptions): 'tree' | 'levels' {
  const strategy = options.strategy ?? 'tree';
  if (strategy !== 'tree' && strategy !== 'levels') throw new TypeError(`preload: strategy must be "tree" or "levels", got ${describe(strategy)}`);
  return strategy;
}
