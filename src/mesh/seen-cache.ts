import { BoundedMap } from '../util/bounded-map.js'

/**
 * The set of message ids a node has already handled, bounded by count and by age. Age is
 * measured on the *receiver's* clock from first sight, never from the sender's timestamp (0.7
 * dropped broadcasts older than 60 s by the sender's clock, so a skewed clock broke delivery).
 * Pure: the caller passes `now`.
 */
export interface SeenCacheLimits {
  /** Most ids remembered; the oldest is forgotten first. */
  maxEntries: number
  /** Ids older than this (ms since first seen) are forgotten. */
  maxAgeMs: number
}

export const SEEN_CACHE_DEFAULTS: Readonly<SeenCacheLimits> = Object.freeze({ maxEntries: 65_536, maxAgeMs: 10 * 60_000 })

export class SeenCache {
  readonly #limits: SeenCacheLimits
  /** Id → first sight, oldest first: the eviction order by count and by age alike. */
  readonly #firstSeen: BoundedMap<string, number>

  constructor(limits: Partial<SeenCacheLimits> = {}) {
    this.#limits = { ...SEEN_CACHE_DEFAULTS, ...limits }
    if (!(this.#limits.maxEntries >= 1) || !(this.#limits.maxAgeMs >= 0)) throw new RangeError('seen cache limits must be positive')
    this.#firstSeen = new BoundedMap(this.#limits.maxEntries)
  }

  get size(): number {
    return this.#firstSeen.size
  }

  /** Records `id`; returns true if it was new (not seen within the limits). */
  add(id: string, now: number): boolean {
    this.#expire(now)
    if (this.#firstSeen.has(id)) return false
    this.#firstSeen.set(id, now)
    return true
  }

  has(id: string, now: number): boolean {
    this.#expire(now)
    return this.#firstSeen.has(id)
  }

  #expire(now: number): void {
    for (const [id, seen] of this.#firstSeen) {
      if (now - seen <= this.#limits.maxAgeMs) return
      this.#firstSeen.delete(id)
    }
  }
}
