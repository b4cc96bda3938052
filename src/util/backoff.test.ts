import { describe, expect, it } from 'vitest'
import { backoffDelay, isBackoffPolicy, type BackoffPolicy } from './backoff.js'

const POLICY: BackoffPolicy = { baseMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 }

describe('backoffDelay', () => {
  it('grows by the factor from baseMs and is capped at maxMs (no jitter taken: random 0)', () => {
    const delays = Array.from({ length: 12 }, (_, attempt) => backoffDelay(POLICY, attempt, 0))
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000])
  })

  it('jitter takes off up to its fraction, never adds: delays lie in [(1 - jitter)·d, d]', () => {
    expect(backoffDelay(POLICY, 0, 0.999_999)).toBeCloseTo(250, 3)
    expect(backoffDelay(POLICY, 0, 0.5)).toBe(375)
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
        const d = backoffDelay(POLICY, attempt, r)
        const full = Math.min(POLICY.maxMs, POLICY.baseMs * 2 ** attempt)
        expect(d).toBeGreaterThanOrEqual(full / 2)
        expect(d).toBeLessThanOrEqual(Math.min(full, POLICY.maxMs))
      }
    }
  })

  it('stays finite and capped for huge attempt numbers, and clamps a random outside [0, 1)', () => {
    expect(backoffDelay(POLICY, 10_000, 0)).toBe(30_000)
    expect(backoffDelay(POLICY, Number.MAX_SAFE_INTEGER, 0.5)).toBe(22_500)
    expect(backoffDelay({ ...POLICY, baseMs: 0 }, 10_000, 0)).toBe(0)
    expect(backoffDelay(POLICY, 0, -3)).toBe(500)
    expect(backoffDelay(POLICY, 0, 7)).toBe(250)
    expect(backoffDelay({ ...POLICY, factor: 1 }, 50, 0)).toBe(500)
  })
})

describe('isBackoffPolicy', () => {
  it('accepts sane policies and refuses the rest', () => {
    expect(isBackoffPolicy(POLICY)).toBe(true)
    expect(isBackoffPolicy({ ...POLICY, baseMs: 0, jitter: 0 })).toBe(true)
    expect(isBackoffPolicy({ ...POLICY, maxMs: 100 })).toBe(false)
    expect(isBackoffPolicy({ ...POLICY, factor: 0.5 })).toBe(false)
    expect(isBackoffPolicy({ ...POLICY, jitter: 1.5 })).toBe(false)
    expect(isBackoffPolicy({ ...POLICY, baseMs: -1 })).toBe(false)
    expect(isBackoffPolicy({ ...POLICY, maxMs: Infinity })).toBe(false)
    expect(isBackoffPolicy({ ...POLICY, factor: NaN })).toBe(false)
  })
})
