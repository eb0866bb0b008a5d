/**
 * A least-recently-used cache of at most `capacity` entries (a Map keeps insertion order: a hit
 * moves its entry to the end; a full cache drops the first). For derived values only: dropping
 * an entry costs a recomputation, never data.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  /** @param capacity - most entries kept (an integer ≥ 1) */
  constructor(readonly capacity: number) {}

  /** How many entries are cached. */
  get size(): number {
    return this.entries.size;
  }

  /** The cached value of `key`, computing and caching it with `compute` on a miss. */
  get(key: K, compute: (key: K) => V): V {
    if (this.entries.has(key)) {
      const hit = this.entries.get(key) as V;
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const value = compute(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, value);
    return value;
  }
}
