// Local changes: what one is (put, patch, remove of one row) as the cache keeps it and as `store.localChanges()` lists it.
import type { KeyValue, Row } from '../values.js';

/** What a local change does to its row. */
export type LocalChangeKind = 'put' | 'patch' | 'remove';

/**
 * One local change as written to the cache: the row's whole local version (none for a remove) and the
 * origin row it was made against (`null`: the origin did not have it; `undefined`: not known, e.g. made
 * offline on a row never loaded). A change already held for the key keeps its first `base`.
 */
export interface LocalWrite {
  readonly entity: string;
  readonly key: KeyValue;
  readonly kind: LocalChangeKind;
  /** patch: the columns it sets (added to those of an earlier patch of the row). */
  readonly columns?: readonly string[];
  /** The whole local row (canonical values); null for a remove. */
  readonly row: Row | null;
  readonly base: Row | null | undefined;
}

/** A local change as the cache holds it. */
export interface StoredLocalChange {
  readonly entity: string;
  readonly key: KeyValue;
  readonly kind: LocalChangeKind;
  /** patch: the columns set. */
  readonly columns: readonly string[] | undefined;
  readonly local: Row | null;
  /** The origin row the change was made against; null: absent at the origin; undefined: not known. */
  readonly base: Row | null | undefined;
  /** The origin row a load brought after the change was made, if any did (undefined: none since). */
  readonly origin: Row | null | undefined;
  /** Order of the changes (a counter of the file's local writes). */
  readonly seq: number;
  /** When it was last changed (ms since the epoch). */
  readonly changedAt: number;
}

/** The local changes of a cache file, and the version of the file's local changes they are. */
export interface LocalChangeSet {
  readonly version: number;
  readonly changes: readonly StoredLocalChange[];
}

/** One local change as `store.localChanges()` lists it. */
export interface LocalChange {
  readonly entity: string;
  /** The row's key as a lookup takes it (a composite key as its components). */
  readonly key: unknown;
  readonly kind: LocalChangeKind;
  /** patch: the columns it sets. */
  readonly columns?: readonly string[];
  /** The origin row the change was made against: `null` if the origin did not have it, `undefined` if not known. */
  readonly base: Row | null | undefined;
  /** The row now at the origin, as the latest load after the change brought it (`undefined`: no load since). */
  readonly origin: Row | null | undefined;
  /** The local version of the row (`null` for a remove). */
  readonly local: Row | null;
  /**
   * True when the latest load after the change brought an origin row that differs from `base`: changed
   * (even to equal `local`: the change was made against a row that is no longer the origin's), deleted
   * (`origin` null; a remove too), or created where `base` was none. An origin row changed back to `base`
   * is no conflict. Never true when `base` is not known.
   */
  readonly conflict: boolean;
  readonly changedAt: Date;
}

/** Which local changes `store.discardLocalChanges()` drops: all (no filter), by entity and keys, or by a test. */
export type LocalChangeFilter = { readonly entity: string; readonly keys?: readonly unknown[] } | ((change: LocalChange) => boolean);
