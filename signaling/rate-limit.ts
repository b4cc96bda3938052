import { TokenBucket, type TokenBucketRate } from '../src/util/token-bucket.js'

/** The server's rate limits are token buckets on its injected clock (src/util/token-bucket.ts). */
export { TokenBucket, perWindow, type TokenBucketRate as BucketConfig } from '../src/util/token-bucket.js'

/**
 * One bucket per key (an IP address), with a bound on the keys tracked: full buckets are
 * forgotten, and past `maxKeys` busy keys new keys are refused (fail closed under a flood
 * from many addresses).
 */
export class KeyedRateLimiter {
  readonly #config: TokenBucketRate
  readonly #now: () => number
  readonly #maxKeys: number
  readonly #buckets = new Map<string, TokenBucket>()

  constructor(config: TokenBucketRate, now: () => number, maxKeys = 10_000) {
    this.#config = config
    this.#now = now
    this.#maxKeys = maxKeys
  }

  take(key: string): boolean {
    const now = this.#now()
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#sweep(now)
      if (this.#buckets.size >= this.#maxKeys) return false
      bucket = new TokenBucket(this.#config, now)
      this.#buckets.set(key, bucket)
    }
    return bucket.take(now)
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#buckets.size
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.isFull(now)) this.#buckets.delete(key)
  }
}
