/**
 * A Map bounded by entry count, in insertion order: `set` puts its key last (moving it if it
 * was there), and past `maxEntries` the first (oldest) entry is dropped. `touch` moves a key
 * last on read, which makes it an LRU cache. Everything else is Map's, iteration oldest first;
 * deleting while iterating is fine (Map's rule).
 */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly maxEntries: number

  /** `maxEntries` >= 0; with 0 nothing stays. */
  constructor(maxEntries: number) {
    super()
    if (!(maxEntries >= 0)) throw new RangeError(`maxEntries must be a number >= 0, got ${String(maxEntries)}`)
    this.maxEntries = maxEntries
  }

  /** Sets `key` as the newest entry; drops the oldest past `maxEntries`. */
  override set(key: K, value: V): this {
    const moved = super.delete(key)
    super.set(key, value)
    if (!moved && this.size > this.maxEntries) super.delete(this.keys().next().value!)
    return this
  }

  /** The value of `key` (undefined if absent), and `key` becomes the newest entry. */
  touch(key: K): V | undefined {
    const value = super.get(key)
    if (value !== undefined || super.has(key)) {
      super.delete(key)
      super.set(key, value!)
    }
    return value
  }
}
