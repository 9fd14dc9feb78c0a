// Loads on their way to the origin, shared by every view of a store so each reaches the origin once.
import type { KeyValue } from '../values.js';
import { Deadlines } from '../deadlines.js';
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
  /** Finished loads still visible retire after their grace, under one timer that never holds the process. */
  readonly #grace = new Deadlines(GRACE_MS, { holdsProcess: false });

  /** A new sequence number (views take one when they are made). */
  next(): number {
    return ++this.#seq;
  }

  /**
   * Answers `keys` of `kind` from loads already in flight (started after `since`) and fetches the rest
   * with one call of `fetch`, registered before this returns its promise, so batches made later share it.
   * A key `fetch`'s map lacks is answered by its absence from `values`. `fetch` may `hold` its answer
   * visible until a promise settles (its cache write): until then the cache may not have it yet, so later
   * lookups must take it from here; a write that fails retires the answer at once.
   */
  async share<T>(
    kind: string,
    keys: readonly KeyValue[],
    since: number,
    fetch: (keys: KeyValue[], hold: (until: Promise<unknown>) => void) => Promise<Map<KeyValue, T>>,
  ): Promise<Loaded<T>> {
    const table = this.#table(kind);
    const mine: KeyValue[] = [];
    let waits: Map<Entry, KeyValue[]> | undefined;
    for (const key of keys) {
      const entry = table.get(key);
      if (entry !== undefined && entry.seq > since) {
        waits ??= new Map();
        const list = waits.get(entry);
        if (list === undefined) waits.set(entry, [key]);
        else list.push(key);
      } else mine.push(key);
    }
    const shared: Loaded<T> = { values: new Map(), errors: new Map(), fresh: new Set() };
    let own: Entry | undefined;
    if (mine.length > 0) {
      const holds: Promise<unknown>[] = [];
      own = { seq: this.next(), result: fetch(mine, (p) => holds.push(p)) };
      this.#register(table, own, mine, own.result.then(() => Promise.all(holds)));
    }
    // The common case, nothing shared: this load's own answer, without the fan-out below.
    if (waits === undefined) {
      if (own !== undefined) await collect(shared, own, mine, since);
      return shared;
    }
    if (own !== undefined) waits.set(own, mine);
    await Promise.all([...waits].map(([entry, entryKeys]) => collect(shared, entry, entryKeys, since)));
    return shared;
  }

  /**
   * Makes answers already in hand (a tree load's levels) visible as a load in flight of `kind`, until
   * `until` (their cache write) settles, so lookups of those keys meanwhile take them from here.
   */
  publish<T>(kind: string, answers: Map<KeyValue, T>, until: Promise<unknown>): void {
    if (answers.size === 0) return;
    const own: Entry = { seq: this.next(), result: Promise.resolve(answers) };
    this.#register(this.#table(kind), own, [...answers.keys()], until);
  }

  /**
   * Answers of `keys` of `kind` from loads already in flight or just done (begun after `since`), without
   * starting one: what a load that has its own way to the origin (an include tree) may still take.
   * Keys no such load covers, or whose load failed, are left out.
   */
  async take<T>(kind: string, keys: readonly KeyValue[], since = 0): Promise<Map<KeyValue, T>> {
    const out = new Map<KeyValue, T>();
    const table = this.#kinds.get(kind);
    if (table === undefined || table.size === 0) return out;
    const waits = new Map<Entry, KeyValue[]>();
    for (const key of keys) {
      const entry = table.get(key);
      if (entry === undefined || entry.seq <= since) continue;
      const list = waits.get(entry);
      if (list === undefined) waits.set(entry, [key]);
      else list.push(key);
    }
    await Promise.all(
      [...waits].map(async ([entry, entryKeys]) => {
        const result = (await entry.result.catch(() => undefined)) as Map<KeyValue, T> | undefined;
        if (result === undefined) return;
        for (const key of entryKeys) {
          const v = result.get(key);
          if (v !== undefined) out.set(key, v);
        }
      }),
    );
    return out;
  }

  #table(kind: string): Map<KeyValue, Entry> {
    let table = this.#kinds.get(kind);
    if (table === undefined) this.#kinds.set(kind, (table = new Map()));
    return table;
  }

  /**
   * Lists `entry` under `keys` until `settled` settles: then, if it fulfilled, for a grace period more (a
   * view whose cache read raced with it still shares it); if it rejected (the load or its write failed), at once.
   */
  #register(table: Map<KeyValue, Entry>, entry: Entry, keys: readonly KeyValue[], settled: Promise<unknown>): void {
    for (const key of keys) table.set(key, entry);
    const retire = () => {
      for (const key of keys) if (table.get(key) === entry) table.delete(key);
    };
    settled.then(() => void this.#grace.set(retire), retire);
  }

  /** Forgets finished loads (the store is closing). */
  clear(): void {
    this.#grace.clear();
    this.#kinds.clear();
  }
}

/** Puts `entry`'s answers for `keys` into `shared` (its error for each, if it failed). */
async function collect<T>(shared: Loaded<T>, entry: Entry, keys: readonly KeyValue[], since: number): Promise<void> {
  try {
    const result = (await entry.result) as Map<KeyValue, T>;
    const fresh = entry.seq > since;
    for (const key of keys) {
      const v = result.get(key);
      if (v !== undefined) shared.values.set(key, v);
      if (fresh) shared.fresh.add(key);
    }
  } catch (error) {
    for (const key of keys) shared.errors.set(key, error);
  }
}
