/**
 * Token buckets, pure functions of an injected clock: `capacity` tokens, refilled at
 * `perMs` tokens per millisecond; each event takes one.
 */
export interface BucketConfig {
  capacity: number
  /** Tokens added per millisecond. */
  perMs: number
}

export class TokenBucket {
  readonly #config: BucketConfig
  #tokens: number
  #at: number

  constructor(config: BucketConfig, now: number) {
    this.#config = config
    this.#tokens = config.capacity
    this.#at = now
  }

  /** Takes a token if one is available at `now`. */
  take(now: number): boolean {
    this.#refill(now)
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /** True when the bucket has refilled completely (it then carries no information). */
  isFull(now: number): boolean {
    this.#refill(now)
    return this.#tokens >= this.#config.capacity
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#config.capacity, this.#tokens + (now - this.#at) * this.#config.perMs)
      this.#at = now
    }
  }
}

/**
 * One bucket per key (an IP address), with a bound on the keys tracked: full buckets are
 * forgotten, and past `maxKeys` busy keys new keys are refused (fail closed under a flood
 * from many addresses).
 */
export class KeyedRateLimiter {
  readonly #config: BucketConfig
  readonly #now: () => number
  readonly #maxKeys: number
  readonly #buckets = new Map<string, TokenBucket>()

  constructor(config: BucketConfig, now: () => number, maxKeys = 10_000) {
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

/** A bucket that allows `count` events per `windowMs` on average, bursting up to `count`. */
export function perWindow(count: number, windowMs: number): BucketConfig {
  return { capacity: count, perMs: count / windowMs }
}
