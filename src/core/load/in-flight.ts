// Loads on their way to the origin, shared by every view of a store so each reaches the origin once.
import type { KeyValue } from '../values.js';
import type { Loaded } from './lookup-kind.js';

/** How long a finished load stays visible, so a view whose cache read raced with it still shares it. */
const GRACE_MS = 1000;

interface Entry {
  readonly seq: number;
  readonly result: Promise<Map<KeyValue, unknown>>;
}

/**
 * @internal Loads on their way to the origin, shared by every view of a store, so that a lookup asked by
 * several views at once reaches the origin once. Each load gets a sequence number from the same counter
 * as views, so a FRESHEN view can refuse a load that started before it did.
 */
export class InFlight {
  #seq = 0;
  readonly #kinds = new Map<string, Map<KeyValue, Entry>>();
  readonly #timers = new Set<NodeJS.Timeout>();

  /** A new sequence number (views take one when they are made). */
  next(): number {
    return ++this.#seq;
  }

  /**
   * Answers `keys` of `kind` from loads already in flight (started after `since`) and fetches the rest
   * with one call of `fetch`, registered before this returns its promise, so batches made later share it.
   * A key `fetch`'s map lacks is answered by its absence from `values`.
   */
  async share<T>(
    kind: string,
    keys: readonly KeyValue[],
    since: number,
    fetch: (keys: KeyValue[]) => Promise<Map<KeyValue, T>>,
  ): Promise<Loaded<T>> {
    let table = this.#kinds.get(kind);
    if (table === undefined) this.#kinds.set(kind, (table = new Map()));
    const mine: KeyValue[] = [];
    const waits = new Map<Entry, KeyValue[]>();
    for (const key of keys) {
      const entry = table.get(key);
      if (entry !== undefined && entry.seq > since) {
        const list = waits.get(entry);
        if (list === undefined) waits.set(entry, [key]);
        else list.push(key);
      } else mine.push(key);
    }
    if (mine.length > 0) {
      const own: Entry = { seq: this.next(), result: fetch(mine) };
      for (const key of mine) table.set(key, own);
      waits.set(own, mine);
      const retire = () => {
        for (const key of mine) if (table.get(key) === own) table.delete(key);
      };
      own.result.then(
        () => {
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            retire();
          }, GRACE_MS);
          timer.unref();
          this.#timers.add(timer);
        },
        retire,
      );
    }
    const shared: Loaded<T> = { values: new Map(), errors: new Map(), fresh: new Set() };
    await Promise.all(
      [...waits].map(async ([entry, entryKeys]) => {
        try {
          const result = (await entry.result) as Map<KeyValue, T>;
          const fresh = entry.seq > since;
          for (const key of entryKeys) {
            const v = result.get(key);
            if (v !== undefined) shared.values.set(key, v);
            if (fresh) shared.fresh.add(key);
          }
        } catch (error) {
          for (const key of entryKeys) shared.errors.set(key, error);
        }
      }),
    );
    return shared;
  }

  /** Forgets finished loads (the store is closing). */
  clear(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#kinds.clear();
  }
}
