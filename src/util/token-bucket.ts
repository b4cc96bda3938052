/**
 * A token bucket, pure: every call takes the time (`now`, in ms on any monotonic-enough clock)
 * instead of reading one, so tests drive it with plain numbers. It holds up to `capacity`
 * tokens, starts full, and refills continuously at `perMs` tokens per millisecond (fractions
 * accrue); each event takes tokens. A clock that goes backwards adds nothing.
 */
export interface TokenBucketRate {
  /** Most tokens held: the burst. A new bucket starts with this many. */
  capacity: number
  /** Tokens added per millisecond (`perSecond(n)` and `perWindow(n, ms)` build rates). */
  perMs: number
}

export class TokenBucket {
  readonly #rate: TokenBucketRate
  #tokens: number
  #at: number

  constructor(rate: TokenBucketRate, now: number) {
    if (!(rate.capacity >= 0) || !(rate.perMs >= 0)) throw new RangeError('a token bucket needs capacity >= 0 and perMs >= 0')
    this.#rate = rate
    this.#tokens = rate.capacity
    this.#at = now
  }

  /** Takes `n` tokens (default 1) if that many are available at `now`; else takes none. */
  take(now: number, n = 1): boolean {
    this.#refill(now)
    if (this.#tokens < n) return false
    this.#tokens -= n
    return true
  }

  /** Tokens available at `now` (fractional). */
  available(now: number): number {
    this.#refill(now)
    return this.#tokens
  }

  /** True when the bucket has refilled completely (it then carries no information). */
  isFull(now: number): boolean {
    return this.available(now) >= this.#rate.capacity
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#rate.capacity, this.#tokens + (now - this.#at) * this.#rate.perMs)
      this.#at = now
    }
  }
}

/** `count` tokens per second, bursting to `burst` (default `count`). */
export function perSecond(count: number, burst = count): TokenBucketRate {
  return { capacity: burst, perMs: count / 1000 }
}

/** `count` events per `windowMs` on average, bursting to `count`. */
export function perWindow(count: number, windowMs: number): TokenBucketRate {
  return { capacity: count, perMs: count / windowMs }
}
