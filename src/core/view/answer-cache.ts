// A DataLoader cache map that can also say which answers have arrived, so they are given at once.
/**
 * @internal A DataLoader `cacheMap` that also keeps the answers that have arrived.
 *
 * DataLoader gives even an answer it already holds only when the loader's next batch is dispatched (a tick
 * later, or, with the view's shared window, when that window's batches are done): a caller reading the
 * same relation twice would then wait on lookups it has nothing to do with. With the answer at hand the
 * view gives it at once.
 */
export class AnswerCache<K, V> extends Map<K, Promise<V>> {
  readonly #values = new Map<K, V>();

  override set(key: K, answer: Promise<V>): this {
    super.set(key, answer);
    this.#values.delete(key);
    answer.then(
      (value) => {
        if (this.get(key) === answer) this.#values.set(key, value);
      },
      () => undefined,
    );
    return this;
  }

  override delete(key: K): boolean {
    this.#values.delete(key);
    return super.delete(key);
  }

  override clear(): void {
    this.#values.clear();
    super.clear();
  }

  /** Whether the answer for `key` has arrived as a value (not an error). */
  arrived(key: K): boolean {
    return this.#values.has(key);
  }

  /** The answer that has arrived for `key` (see {@link arrived}). */
  value(key: K): V | undefined {
    return this.#values.get(key);
  }
}
