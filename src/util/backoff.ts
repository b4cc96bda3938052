/**
 * Exponential backoff with jitter, as a pure function: the delay before retry number `attempt`
 * (0 for the first retry) given a random number in [0, 1). The caller owns the timer, the
 * attempt count and the random source (inject a seeded one in tests).
 *
 * The un-jittered delay is `min(maxMs, baseMs · factor^attempt)`; jitter then takes off up to
 * that fraction of it, so the delay lies in `[(1 − jitter) · d, d]` and never exceeds `maxMs`.
 * Clients that lost the same server at the same moment spread their retries over that range.
 */
export interface BackoffPolicy {
  /** Delay before the first retry, before jitter. */
  baseMs: number
  /** Cap on the delay. */
  maxMs: number
  /** Growth per attempt (>= 1). */
  factor: number
  /** Fraction of the delay that is randomised away, 0 … 1. */
  jitter: number
}

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const { baseMs, maxMs, factor, jitter } = policy
  // baseMs · factor^attempt overflows to Infinity for large attempts; min() caps it (0 · Infinity is NaN, hence the guard).
  const delay = baseMs <= 0 ? 0 : Math.min(maxMs, baseMs * factor ** Math.max(0, attempt))
  return delay * (1 - jitter * Math.min(1, Math.max(0, random)))
}

/** Whether `policy` is usable: finite, 0 <= baseMs <= maxMs, factor >= 1, jitter in [0, 1]. */
export function isBackoffPolicy(policy: BackoffPolicy): boolean {
  const { baseMs, maxMs, factor, jitter } = policy
  return (
    Number.isFinite(baseMs) &&
    Number.isFinite(maxMs) &&
    Number.isFinite(factor) &&
    baseMs >= 0 &&
    maxMs >= baseMs &&
    factor >= 1 &&
    jitter >= 0 &&
    jitter <= 1
  )
}
