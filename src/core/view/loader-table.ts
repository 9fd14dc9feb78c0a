// A view's DataLoaders: one per entity, relation and mode, and one per include tree, all in one batch window.
import DataLoader from 'dataloader';
import { NotFoundError } from '../errors.js';
import { MODE_COUNT, modeRank, type Mode } from '../mode.js';
import type { CompiledEntity, CompiledRelation } from '../schema.js';
import type { KeyValue } from '../values.js';
import { AnswerCache } from './answer-cache.js';
import { Tick } from './tick.js';

type Loader = DataLoader<KeyValue, unknown>;
/** A batch function: one answer (or error) per key, in key order. */
export type Batch = (keys: readonly KeyValue[]) => Promise<unknown[]>;

/** What the table builds loaders over. */
export interface Batches {
  entities(entity: CompiledEntity, mode: Mode): Batch;
  relation(rel: CompiledRelation, mode: Mode): Batch;
  /** Keeps the store from closing under a running batch. */
  track<T>(work: Promise<T>): Promise<T>;
}

/**
 * @internal The loaders of one view, so that lookups of one kind made in one tick become one batch. All
 * share one batch window ({@link Tick}): the batches sent together answer together. Transient failures
 * (origin down, offline) are not remembered, so the same lookup may succeed later in the view; absence is
 * an answer and is remembered.
 */
export class LoaderTable {
  readonly #batches: Batches;
  readonly #tick = new Tick();
  readonly #entities: (Loader | undefined)[] = [];
  readonly #relations: (Loader | undefined)[] = [];
  /** The relation loaders' caches, readable (DataLoader has no `has`). */
  readonly #answers: (AnswerCache<KeyValue, unknown> | undefined)[] = [];
  readonly #trees = new Map<string, Loader>();

  constructor(batches: Batches) {
    this.#batches = batches;
  }

  /** The loader of `entity` lookups under `mode`. */
  entity(entity: CompiledEntity, mode: Mode): Loader {
    const slot = slotOf(entity.index, modeRank(mode));
    return (this.#entities[slot] ??= this.#make(this.#batches.entities(entity, mode)));
  }

  /** The loader of `rel` lookups under `mode` (hasMany, hasOne, manyToMany). */
  relation(rel: CompiledRelation, mode: Mode): Loader {
    const slot = slotOf(rel.index, modeRank(mode));
    return (this.#relations[slot] ??= this.#make(this.#batches.relation(rel, mode), (this.#answers[slot] = new AnswerCache())));
  }

  /** The answers (arrived or in progress) of `rel` lookups under `mode`, if that loader exists. */
  relationAnswers(rel: CompiledRelation, mode: Mode): AnswerCache<KeyValue, unknown> | undefined {
    return this.#answers[slotOf(rel.index, modeRank(mode))];
  }

  /** A loader of roots with an include tree, one per distinct tree (`signature`), in the same window. */
  tree(signature: string, batch: Batch): Loader {
    let loader = this.#trees.get(signature);
    if (loader === undefined) this.#trees.set(signature, (loader = this.#make(batch)));
    return loader;
  }

  /** Forgets what every mode's `entity` loader remembers of `key`. */
  forgetEntity(entity: CompiledEntity, key: KeyValue): void {
    for (let rank = 0; rank < MODE_COUNT; rank++) this.#entities[slotOf(entity.index, rank)]?.clear(key);
  }

  /** Sets the answer of `rel` for `key` in the loaders of every mode that exist. */
  setRelation(rel: CompiledRelation, key: KeyValue, value: unknown): void {
    for (let rank = 0; rank < MODE_COUNT; rank++) this.#relations[slotOf(rel.index, rank)]?.clear(key).prime(key, value);
  }

  /** Forgets everything (the view is closing). */
  clearAll(): void {
    for (const l of this.#entities) l?.clearAll();
    for (const l of this.#relations) l?.clearAll();
    for (const l of this.#trees.values()) l.clearAll();
  }

  #make(batch: Batch, cacheMap?: Map<KeyValue, Promise<unknown>>): Loader {
    const loader: Loader = new DataLoader<KeyValue, unknown>(
      async (keys) => {
        const results = await this.#tick.together(this.#batches.track(batch(keys)));
        for (let i = 0; i < results.length; i++) {
          const r = results[i];
          if (r instanceof Error && !(r instanceof NotFoundError)) loader.clear(keys[i] as KeyValue);
        }
        return results;
      },
      cacheMap === undefined ? { batchScheduleFn: this.#tick.schedule } : { cacheMap, batchScheduleFn: this.#tick.schedule },
    );
    return loader;
  }
}

/** Where the loader of kind `index` under the mode of rank `rank` sits: one slot per kind and mode. */
function slotOf(index: number, rank: number): number {
  return index * MODE_COUNT + rank;
}
