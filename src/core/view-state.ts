import DataLoader from 'dataloader';
import { normalizeKey, type KeyValue, type Row } from './codec.js';
import { FRESH, ROW, type EntityObject } from './entity-class.js';
import { IsOfflineError, NotFoundError, NotLiveError } from './errors.js';
import { loadEntities } from './load-entities.js';
import { loadRelation, type RelationValue } from './load-relation.js';
import { capMode, modeRank, type Mode } from './mode.js';
import type { CompiledEntity, CompiledRelation } from './schema.js';
import type { StoreCore } from './store-core.js';

type Loader = DataLoader<KeyValue, unknown>;
const MODES = 3;

/**
 * @internal The state of one view (unit of work): its identity maps and its DataLoaders, one per entity and
 * per relation and mode, so that lookups of one kind made in one tick become one batch.
 */
export class ViewState {
  closed = false;
  mode: Mode;
  readonly core: StoreCore;
  /** One object per row: entity index → key → object. */
  readonly known: Map<KeyValue, EntityObject>[];
  /** Keys known absent: entity index → key → whether the origin said so in this view. */
  readonly absent: Map<KeyValue, boolean>[];
  readonly #entityLoaders: (Loader | undefined)[] = [];
  readonly #relationLoaders: (Loader | undefined)[] = [];

  constructor(core: StoreCore, mode: Mode) {
    this.core = core;
    this.mode = mode;
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
    return this.#entityLoader(entity, mode).load(normalized) as Promise<EntityObject>;
  }

  /** The value of a relation getter on `obj`. */
  follow(rel: CompiledRelation, obj: EntityObject): Promise<unknown> {
    if (this.closed || !this.core.live) return Promise.reject(this.#notLive(`read ${rel.id}`));
    const mode = capMode(this.mode, rel.mode);
    const row = obj[ROW];
    if (rel.kind === 'belongsTo') {
      const fk = row[rel.foreignKey.name];
      if (fk === null || fk === undefined) return Promise.resolve(null);
      const found = this.#entityLoader(rel.target, mode).load(fk as KeyValue);
      if (!rel.hasFallback) return found;
      return found.catch((error: unknown) => {
        if (error instanceof IsOfflineError) return rel.offlineFallback;
        throw error;
      });
    }
    return this.#relationLoader(rel, mode).load(row[rel.source.key.name] as KeyValue);
  }

  /**
   * Makes rows known to the view: an existing object for the same key is kept (one object per row) and
   * takes the row's values when they come from the origin.
   */
  adopt(entity: CompiledEntity, rows: readonly Row[], fresh: boolean): EntityObject[] {
    const known = this.known[entity.index] as Map<KeyValue, EntityObject>;
    const absent = this.absent[entity.index] as Map<KeyValue, boolean>;
    const Cls = this.core.classes[entity.index] as new (v: ViewState, r: Row, f: boolean) => EntityObject;
    const keyName = entity.key.name;
    const out: EntityObject[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Row;
      const key = row[keyName] as KeyValue;
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
    return (this.#relationLoaders[slot] ??= this.#makeLoader((keys) => loadRelation(this, rel, mode, keys)));
  }

  /**
   * Wraps a batch function so that transient failures (origin down, offline) are not remembered by the
   * loader: the same lookup may succeed later in the same view. Absence is remembered: it is an answer.
   */
  #makeLoader(batch: (keys: readonly KeyValue[]) => Promise<(RelationValue | EntityObject | Error)[]>): Loader {
    const loader: Loader = new DataLoader<KeyValue, unknown>(async (keys) => {
      const results = await batch(keys);
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        if (r instanceof Error && !(r instanceof NotFoundError)) loader.clear(keys[i] as KeyValue);
      }
      return results;
    });
    return loader;
  }
}
