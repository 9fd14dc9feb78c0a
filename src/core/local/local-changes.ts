// A store's copy of its cache file's local changes, read again whenever the file's local-change version moves.
import type { CacheStore } from '../cache-store.js';
import { LocalSnapshot } from './overlay.js';

/**
 * @internal The local changes of the store's cache file as last read. `current()` asks the cache for the
 * file's version (one statement, none when the cache knows it) and reads the changes again only when any
 * process changed them since.
 */
export class LocalChanges {
  readonly #cache: CacheStore;
  #snap: LocalSnapshot | undefined;
  #reading: Promise<LocalSnapshot> | undefined;

  constructor(cache: CacheStore) {
    this.#cache = cache;
  }

  /** The file's local changes now. */
  async current(): Promise<LocalSnapshot> {
    const version = await this.#cache.localVersion();
    const snap = this.#snap;
    if (snap !== undefined && snap.version >= version) return snap;
    this.#reading ??= this.#cache.localChanges().then(
      (set) => {
        this.#reading = undefined;
        const next = new LocalSnapshot(set.version, set.changes);
        if (this.#snap === undefined || this.#snap.version <= next.version) this.#snap = next;
        return next;
      },
      (error: unknown) => {
        this.#reading = undefined;
        throw error;
      },
    );
    const next = await this.#reading;
    // A read begun before this version was asked for may be older: read again.
    return next.version >= version ? next : this.current();
  }
}
