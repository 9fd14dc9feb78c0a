// A view's state: the front every view operation enters by, handing each lookup to the pipeline and adopting its answers.
import { encodeParams, normalizeKey } from '../codec.js';
import { IsOfflineError, NotFoundError, NotLiveError } from '../errors.js';
import { compileInclude, everyNode, type IncludeNode } from '../include.js';
import type { LoadContext } from '../load/context.js';
import { displayKey } from '../load/entities.js';
import type { Lookups } from '../load/lookups.js';
import type { LocalLens } from '../local/local-lens.js';
import { readKnown, runLookups, type Asked } from '../load/pipeline.js';
import { queryLookup } from '../load/query.js';
import { loadTree, type TreeHost } from '../load/tree.js';
import { assertMode, capMode, Mode } from '../mode.js';
import { compareExactly, type CompiledEntity, type CompiledRelation } from '../schema.js';
import { describe, type KeyValue, type Row } from '../values.js';
import { ENTITY, ROW, VIEW, type EntityConstructor, type EntityHost, type EntityObject } from './entity-class.js';
import { IdentityMap } from './identity-map.js';
import { LoaderTable } from './loader-table.js';
import type { ManyOptions, PreloadOptions, QuerySpec } from './options.js';
import { relationValue } from './relation-value.js';

/** @internal What a store gives each of its views. */
export interface ViewDeps {
  readonly ctx: LoadContext;
  readonly lookups: Lookups;
  readonly classes: readonly EntityConstructor[];
  /** How the view shows local changes (`local/`): over every answer, or not at all (`{ local: false }`). */
  readonly lens: LocalLens;
}

/**
 * @internal The state of one view (unit of work). Every lookup enters here: what the view's memory answers
 * is given at once; the rest is batched per kind and mode by the view's loaders and run through the lookup
 * pipeline (`load/pipeline.ts`: cache, offline answer, shared load and claim, origin, merge, fallback),
 * whose answers the view then adopts into its identity map.
 */
export class ViewState implements EntityHost, TreeHost {
  closed = false;
  mode: Mode;
  /** When the view was made, on the store's in-flight clock: FRESHEN shares only loads begun later. */
  readonly born: number;
  readonly ctx: LoadContext;
  readonly lookups: Lookups;
  readonly lens: LocalLens;
  readonly #objects: IdentityMap;
  readonly #loaders: LoaderTable;
  readonly #queries = new Map<string, Promise<unknown>>();

  constructor(deps: ViewDeps, mode: Mode) {
    this.ctx = deps.ctx;
    this.lookups = deps.lookups;
    this.lens = deps.lens;
    this.mode = mode;
    this.born = deps.ctx.inflight.next();
    this.#objects = new IdentityMap(this, deps.classes);
    this.#loaders = new LoaderTable({
      entities: (entity, m) => (keys) => this.#loadEntities(entity, m, keys, false),
      relation: (rel, m) => (keys) => this.#loadRelation(rel, m, keys, false),
      track: (work) => this.ctx.track(work),
    });
  }

  // ---- lookups --------------------------------------------------------------------------------------

  /** `view.X(key)`: checks the key now, so a bad key fails the caller and not the whole batch. */
  lookup(entity: CompiledEntity, key: unknown, mode: Mode = this.mode): Promise<EntityObject> {
    if (this.closed || !this.ctx.live) return Promise.reject(this.#notLive(`look up ${entity.name}`));
    let normalized: KeyValue;
    try {
      normalized = normalizeKey(entity, key);
    } catch (error) {
      return Promise.reject(error);
    }
    const held = this.#objects.held(entity, normalized, mode);
    if (held !== undefined) return Promise.resolve(held);
    return this.#loaders.entity(entity, mode).load(normalized) as Promise<EntityObject>;
  }

  /** `view.X(key, { include })`: a `many` of one key, so lookups of one tick with the same tree are one batch. */
  async lookupWith(entity: CompiledEntity, key: unknown, options: ManyOptions): Promise<EntityObject> {
    return (await this.many(entity, [key], options))[0] as EntityObject;
  }

  /** `view.X.many(keys)`: one batch; results in key order; missing keys reject together (or give null). */
  async many(entity: CompiledEntity, keys: readonly unknown[], options: ManyOptions = {}): Promise<(EntityObject | null)[]> {
    this.assertLive(`look up ${entity.name}`);
    if (!Array.isArray(keys)) throw new TypeError(`${entity.name}.many: expected an array of keys, got ${describe(keys)}`);
    const normalized = keys.map((k) => normalizeKey(entity, k));
    const nodes = options.include === undefined ? undefined : compileInclude(entity, options.include);
    const oneTrip = nodes !== undefined && this.#oneTrip(strategyOf(options), nodes);
    const loader = oneTrip ? this.#treeLoader(entity, nodes) : this.#loaders.entity(entity, this.mode);
    const results = await loader.loadMany(normalized);
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

  /** The value of a relation getter on `obj`. */
  follow(rel: CompiledRelation, obj: EntityObject): Promise<unknown> {
    if (this.closed || !this.ctx.live) return Promise.reject(this.#notLive(`read ${rel.id}`));
    const mode = capMode(this.mode, rel.mode);
    const row = obj[ROW];
    if (rel.kind === 'belongsTo') {
      const fk = rel.foreignKey.of(row);
      if (fk === null) return Promise.resolve(null);
      const held = this.#objects.held(rel.target, fk, mode);
      if (held !== undefined) return Promise.resolve(held);
      const found = this.#loaders.entity(rel.target, mode).load(fk);
      if (!rel.hasFallback) return found;
      return found.catch((error: unknown) => {
        if (error instanceof IsOfflineError) return rel.offlineFallback;
        throw error;
      });
    }
    const key = rel.source.key.of(row) as KeyValue;
    const loader = this.#loaders.relation(rel, mode);
    const answers = this.#loaders.relationAnswers(rel, mode);
    return answers?.arrived(key) === true ? Promise.resolve(answers.value(key)) : loader.load(key);
  }

  /** `view.query(entity, spec)`: asked at most once per view (and mode) for the same tag and params. */
  query(entityName: string, spec: QuerySpec): Promise<unknown> {
    try {
      this.assertLive('run a query');
      const entity = this.ctx.schema.byName.get(entityName);
      if (entity === undefined) throw new TypeError(`query: unknown entity ${describe(entityName)}; known: ${[...this.ctx.schema.byName.keys()].join(', ')}`);
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
        answer = this.ctx.track(this.runQuery(entity, key, spec.sql, params, mode, spec, false));
        this.#queries.set(memo, answer);
        answer.catch(() => this.#queries.delete(memo));
      }
      return answer;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** @internal Runs a custom query under `mode` through the pipeline (`force`: shares only loads begun now, for refreshes). */
  async runQuery(
    entity: CompiledEntity,
    key: { kind: string; params: string },
    sql: string,
    params: readonly unknown[],
    mode: Mode,
    spec: Pick<QuerySpec, 'tag' | 'offlineFallback' | 'maxAge'>,
    force: boolean,
  ): Promise<unknown> {
    const kind = queryLookup(this.ctx, { entity, key, sql, params, tag: spec.tag, maxAge: spec.maxAge });
    const loaded = await runLookups(this.ctx, kind, [key.params], mode, this.#asked(mode, force));
    await this.lens.query(entity, key.params, loaded);
    const error = loaded.errors.get(key.params);
    if (error !== undefined) {
      if (error instanceof IsOfflineError && 'offlineFallback' in spec) return spec.offlineFallback;
      throw error;
    }
    return Object.freeze(this.#objects.adopt(entity, loaded.values.get(key.params) ?? [], loaded.fresh.has(key.params)));
  }

  // ---- preloading -----------------------------------------------------------------------------------

  /**
   * Loads an include tree: in one origin round trip for every level the cache cannot answer where the
   * origin can (`tree`), else level by level, each relation of a level one batch over all its parents.
   */
  async preload(objects: readonly EntityObject[], include: unknown, options: PreloadOptions = {}): Promise<void> {
    this.assertLive('preload');
    if (!Array.isArray(objects)) throw new TypeError(`preload: expected an array of entities, got ${describe(objects)}`);
    const strategy = strategyOf(options);
    if (objects.length === 0) return;
    const entity = this.#entityOf(objects[0], 'preload');
    for (const o of objects) if (this.#entityOf(o, 'preload') !== entity) throw new TypeError(`preload: all entities must be of one kind; got ${entity.name} and ${o[ENTITY].name}`);
    const nodes = compileInclude(entity, include);
    if (this.#oneTrip(strategy, nodes)) await this.ctx.track(loadTree(this, this.ctx, objects, nodes, this.mode));
    else await this.#preloadLevel(objects, nodes);
  }

  /** Whether an include tree can go to the origin in one round trip under the view's mode. */
  #oneTrip(strategy: 'tree' | 'levels', nodes: readonly IncludeNode[]): boolean {
    const mode = this.mode;
    return strategy === 'tree' && this.ctx.canTree && (mode === Mode.FRESHEN || mode === Mode.PREFER_CACHE) && everyNode(nodes, (n) => capMode(mode, n.rel.mode) === mode);
  }

  /** The loader of roots of `entity` with include tree `nodes` under the view's mode (one per tree shape). */
  #treeLoader(entity: CompiledEntity, nodes: readonly IncludeNode[]) {
    const mode = this.mode;
    return this.#loaders.tree(`${mode}|${entity.name}|${treeSignature(nodes)}`, (keys) => this.#rootsWithTree(entity, keys, nodes, mode));
  }

  /**
   * Roots with an include tree in one round trip: roots the view holds or the cache answers are taken
   * from there, and the rest are fetched as the first level of the include tree's own round trip.
   */
  async #rootsWithTree(entity: CompiledEntity, keys: readonly KeyValue[], nodes: readonly IncludeNode[], mode: Mode): Promise<(EntityObject | Error)[]> {
    this.assertLive(`look up ${entity.name}`);
    const objects = this.#objects;
    const wanted = new Set<KeyValue>();
    for (const key of keys) if (!objects.heldAbsent(entity, key, mode) && objects.held(entity, key, mode) === undefined) wanted.add(key);
    let fetch = [...wanted];
    if (fetch.length > 0) {
      const read = await readKnown(this.ctx, this.lookups.entity(entity), fetch, mode, this.born);
      // Answers shared in flight are the origin's rows: local changes (or, for the origin's side, their
      // absence) are shown over them, as over every answer.
      await this.lens.entities(entity, read);
      this.#adoptEntities(entity, read.values, read.fresh);
      fetch = fetch.filter((k) => !read.values.has(k));
    }
    this.ctx.count(entity.name, wanted.size - fetch.length, fetch.length);
    const fetching = new Set(fetch);
    const roots = new Set<EntityObject>();
    for (const key of keys) {
      const obj = objects.get(entity, key);
      if (obj !== undefined && !fetching.has(key)) roots.add(obj);
    }
    await loadTree(this, this.ctx, [...roots], nodes, mode, { entity, keys: fetch });
    // A root no row spelled exactly (a key that may match another spelling): its own entity lookup asks.
    const unsure = fetch.filter((k) => objects.get(entity, k) === undefined && !objects.isAbsent(entity, k));
    if (unsure.length > 0) {
      const results = await this.#loadEntities(entity, mode, unsure, true);
      const failed = new Map(unsure.map((k, i) => [k, results[i]]).filter((e): e is [KeyValue, Error] => e[1] instanceof Error && !(e[1] instanceof NotFoundError)));
      if (failed.size > 0) return keys.map((key) => failed.get(key) ?? objects.get(entity, key) ?? new NotFoundError(entity.name, [displayKey(entity, key)]));
    }
    return keys.map((key): EntityObject | Error => objects.get(entity, key) ?? new NotFoundError(entity.name, [displayKey(entity, key)]));
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

  // ---- refreshing -----------------------------------------------------------------------------------

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
    const [value] = await this.refreshRelation(rel, [key]);
    if (value instanceof Error) throw value;
    this.#loaders.setRelation(rel, key, value);
    return value;
  }

  async #refreshEntity(entity: CompiledEntity, key: KeyValue): Promise<EntityObject> {
    if (!this.ctx.hasOrigin) throw new IsOfflineError(`cannot refresh ${entity.name} ${String(key)}: the store has no origin`);
    const [result] = await this.refreshEntities(entity, [key]);
    this.#loaders.forgetEntity(entity, key);
    if (result instanceof Error) throw result;
    return result as EntityObject;
  }

  /** @internal Reads entity keys from the origin now, sharing only loads begun from now on (also `refreshAll`). */
  refreshEntities(entity: CompiledEntity, keys: readonly KeyValue[]): Promise<(EntityObject | Error)[]> {
    return this.#loadEntities(entity, Mode.FRESHEN, keys, true);
  }

  /** @internal Reads relation keys from the origin now, sharing only loads begun from now on (also `refreshAll`). */
  refreshRelation(rel: CompiledRelation, keys: readonly KeyValue[]): Promise<unknown[]> {
    return this.#loadRelation(rel, Mode.FRESHEN, keys, true);
  }

  // ---- the batch functions behind the loaders --------------------------------------------------------

  /**
   * Entity lookups of one batch: what the view holds (unless `force`), then the pipeline for the rest;
   * its answers are adopted (fresh from the origin, or from the cache) and each key answered in order.
   */
  async #loadEntities(entity: CompiledEntity, mode: Mode, keys: readonly KeyValue[], force: boolean): Promise<(EntityObject | Error)[]> {
    this.assertLive(`look up ${entity.name}`);
    const objects = this.#objects;
    const todo: KeyValue[] = [];
    if (force) todo.push(...keys);
    else for (const key of keys) if (objects.held(entity, key, mode) === undefined && !objects.heldAbsent(entity, key, mode)) todo.push(key);
    const loaded = await runLookups(this.ctx, this.lookups.entity(entity), todo, mode, this.#asked(mode, force));
    await this.lens.entities(entity, loaded);
    this.#adoptEntities(entity, loaded.values, loaded.fresh);
    return keys.map((key) => {
      const error = loaded.errors.get(key);
      if (error !== undefined) return error as Error;
      return objects.get(entity, key) ?? (objects.isAbsent(entity, key) ? new NotFoundError(entity.name, [displayKey(entity, key)]) : unanswered(entity.name, key));
    });
  }

  /** Takes entity answers in: rows become (or refresh) the view's objects, `null` marks the key absent. */
  #adoptEntities(entity: CompiledEntity, answers: ReadonlyMap<KeyValue, Row | null>, fresh: ReadonlySet<KeyValue>): void {
    const freshRows: Row[] = [];
    const olderRows: Row[] = [];
    const freshAbsent: KeyValue[] = [];
    const olderAbsent: KeyValue[] = [];
    const keyOf = entity.key.of;
    // Only keys that may match another spelling at the origin can be answered by a row of another key.
    const mayAlias = !compareExactly(entity.key);
    let aliases: [KeyValue, Row][] | undefined;
    for (const [key, row] of answers) {
      const isFresh = fresh.has(key);
      if (row === null) (isFresh ? freshAbsent : olderAbsent).push(key);
      else {
        (isFresh ? freshRows : olderRows).push(row);
        if (mayAlias && keyOf(row) !== key) (aliases ??= []).push([key, row]);
      }
    }
    const objects = this.#objects;
    objects.adopt(entity, freshRows, true);
    objects.adopt(entity, olderRows, false);
    objects.markAbsent(entity, freshAbsent, true);
    objects.markAbsent(entity, olderAbsent, false);
    // A key the origin answered with a row of another spelling names that row's one object.
    if (aliases !== undefined) for (const [key, row] of aliases) objects.alias(entity, key, objects.get(entity, keyOf(row) as KeyValue) as EntityObject);
  }

  /** Relation lookups of one batch (hasMany, hasOne, manyToMany) through the pipeline; each group adopted. */
  async #loadRelation(rel: CompiledRelation, mode: Mode, keys: readonly KeyValue[], force: boolean): Promise<unknown[]> {
    this.assertLive(`load ${rel.id}`);
    const loaded = await runLookups(this.ctx, this.lookups.relation(rel), keys, mode, this.#asked(mode, force));
    await this.lens.groups(rel, loaded);
    return keys.map((key) => {
      const error = loaded.errors.get(key);
      if (error !== undefined) return error instanceof IsOfflineError && rel.hasFallback ? rel.offlineFallback : (error as Error);
      const rows = loaded.values.get(key);
      return relationValue(rel, rows === undefined || rows.length === 0 ? undefined : this.#objects.adopt(rel.target, rows, loaded.fresh.has(key)));
    });
  }

  /** Which loads in flight may answer a batch: any (cache-first modes), those begun after the view (FRESHEN), or after now (forced). */
  #asked(mode: Mode, force: boolean): Asked {
    return { shareSince: force ? this.ctx.inflight.next() : mode === Mode.FRESHEN ? this.born : 0 };
  }

  // ---- what a tree load asks of the view (TreeHost) ---------------------------------------------------

  /** @internal The object the view holds for `key` if it answers a lookup under `mode`. */
  held(entity: CompiledEntity, key: KeyValue, mode: Mode): EntityObject | undefined {
    return this.#objects.held(entity, key, mode);
  }

  /** @internal Makes rows known to the view (one object per row). */
  adopt(entity: CompiledEntity, rows: readonly Row[], fresh: boolean): EntityObject[] {
    return this.#objects.adopt(entity, rows, fresh);
  }

  /** @internal Records keys as absent in this view (`fresh`: the origin said so within the view). */
  markAbsent(entity: CompiledEntity, keys: readonly KeyValue[], fresh: boolean): void {
    this.#objects.markAbsent(entity, keys, fresh);
  }

  /** @internal Gives a relation lookup its answer, so awaiting it later sends nothing. */
  primeRelation(rel: CompiledRelation, key: KeyValue, value: unknown): void {
    this.#loaders.relation(rel, capMode(this.mode, rel.mode)).prime(key, value);
  }

  /** @internal The answer (or the load in progress) this view has for a relation lookup under its effective mode. */
  knownRelation(rel: CompiledRelation, key: KeyValue): Promise<unknown> | undefined {
    return this.#loaders.relationAnswers(rel, capMode(this.mode, rel.mode))?.get(key);
  }

  // ---- local changes -------------------------------------------------------------------------------

  /**
   * @internal A local change made through this view: the view shows it at once (the row's object takes the
   * local row, a removed key is absent), and forgets what it had answered that the change may alter.
   */
  localChanged(entity: CompiledEntity, key: KeyValue, row: Row | null): EntityObject | undefined {
    this.#loaders.forgetEntity(entity, key);
    this.#loaders.forgetRelations(this.ctx.schema.relations.filter((r) => r.target === entity && r.kind !== 'belongsTo'));
    this.#queries.clear();
    if (row === null) {
      this.#objects.markAbsent(entity, [key], true);
      return undefined;
    }
    const held = this.#objects.get(entity, key);
    if (held === undefined) return this.#objects.adopt(entity, [row], false)[0];
    held[ROW] = row;
    return held;
  }

  // ---- life -----------------------------------------------------------------------------------------

  assertLive(what: string): void {
    if (this.closed || !this.ctx.live) throw this.#notLive(what);
  }

  throwClosed(what: string): never {
    throw this.#notLive(what);
  }

  close(): void {
    this.closed = true;
    this.#loaders.clearAll();
  }

  #notLive(what: string): NotLiveError {
    return new NotLiveError(`cannot ${what}: ${this.closed ? 'the view is closed' : 'the store is not open'}`);
  }

  #entityOf(obj: unknown, what: string): CompiledEntity {
    if (obj === null || typeof obj !== 'object' || !(ENTITY in obj)) throw new TypeError(`${what}: expected an entity object of this view, got ${describe(obj)}`);
    if ((obj as EntityObject)[VIEW] !== this) throw new TypeError(`${what}: the ${(obj as EntityObject)[ENTITY].name} belongs to another view`);
    return (obj as EntityObject)[ENTITY];
  }
}

/** The preload strategy asked for (default `tree`); anything else is a TypeError naming it. */
function strategyOf(options: PreloadOptions): 'tree' | 'levels' {
  const strategy = options.strategy ?? 'tree';
  if (strategy !== 'tree' && strategy !== 'levels') throw new TypeError(`preload: strategy must be "tree" or "levels", got ${describe(strategy)}`);
  return strategy;
}

/** A compiled include tree's shape as text: equal for equal trees, so their roots can share one batch. */
function treeSignature(nodes: readonly IncludeNode[]): string {
  return nodes.map((n) => `${n.rel.name}(${treeSignature(n.children)})`).join(',');
}

/** A key the pipeline gave neither an answer nor an error for: a bug, reported as such rather than as absence. */
function unanswered(entity: string, key: KeyValue): Error {
  return new Error(`internal error: ${entity} ${String(key)} was neither answered nor failed`);
}
