import { perSecond, TokenBucket } from '../util/token-bucket.js'

/**
 * The inbound rate limit of one link (docs/LIMITS.md): a token bucket of `perSecond` frames,
 * refilled continuously; frames over it are dropped unread. A peer whose frames keep being
 * dropped (no second without a drop) for `graceMs` is to be dropped (RATE_LIMITED). Pure: the
 * caller passes the time.
 */
export class InboundRateLimit {
  readonly perSecond: number
  readonly graceMs: number
  readonly #bucket: TokenBucket
  /** Since when, and when last, frames were dropped for the rate. */
  #overSince = 0
  #lastDrop: number | undefined

  constructor(rate: number, graceMs: number, now: number) {
    this.perSecond = rate
    this.graceMs = graceMs
    this.#bucket = new TokenBucket(perSecond(rate), now)
  }

  /** 'ok' to read the frame, 'drop' to drop it, 'exceeded' when the peer has been over the rate for the grace period. */
  admit(now: number): 'ok' | 'drop' | 'exceeded' {
    if (this.#bucket.take(now)) return 'ok'
    if (this.#lastDrop === undefined || now - this.#lastDrop > 1000) this.#overSince = now
    this.#lastDrop = now
    return now - this.#overSince >= this.graceMs ? 'exceeded' : 'drop'
  }
}
