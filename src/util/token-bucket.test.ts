import { describe, expect, it } from 'vitest'
import { TokenBucket, perSecond, perWindow } from './token-bucket.js'

describe('TokenBucket', () => {
  it('allows a burst of `capacity`, then refills at its rate up to capacity', () => {
    const bucket = new TokenBucket({ capacity: 3, perMs: 1 / 1000 }, 0)
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false])
    expect(bucket.take(999)).toBe(false)
    expect(bucket.take(1000)).toBe(true)
    expect(bucket.take(1000)).toBe(false)
    expect(bucket.isFull(10_000_000)).toBe(true)
    expect([bucket.take(10_000_000), bucket.take(10_000_000), bucket.take(10_000_000), bucket.take(10_000_000)]).toEqual([
      true,
      true,
      true,
      false,
    ])
  })

  it('ignores a clock that goes backwards', () => {
    const bucket = new TokenBucket({ capacity: 1, perMs: 1 }, 100)
    expect(bucket.take(100)).toBe(true)
    expect(bucket.take(50)).toBe(false)
    expect(bucket.available(50)).toBe(0)
  })

  it('takes n tokens at once, or none', () => {
    const bucket = new TokenBucket(perSecond(10), 0)
    expect(bucket.take(0, 4)).toBe(true)
    expect(bucket.take(0, 7)).toBe(false)
    expect(bucket.available(0)).toBe(6)
    expect(bucket.take(0, 6)).toBe(true)
    expect(bucket.take(100, 2)).toBe(false)
    expect(bucket.take(200, 2)).toBe(true)
    expect(bucket.take(200, 0.5)).toBe(false)
  })

  it('refills continuously: a rate of n per second admits one event every 1/n s once the burst is spent', () => {
    const rate = 50
    const bucket = new TokenBucket(perSecond(rate), 0)
    let admitted = 0
    for (let ms = 0; ms < 2_000; ms++) if (bucket.take(ms)) admitted++
    expect(admitted).toBeGreaterThanOrEqual(rate + 2 * rate - 1)
    expect(admitted).toBeLessThanOrEqual(rate + 2 * rate)
  })

  it('perSecond takes a smaller burst; perWindow spreads a count over a window', () => {
    expect(perSecond(100, 10)).toEqual({ capacity: 10, perMs: 0.1 })
    const window = new TokenBucket(perWindow(60, 60_000), 0)
    for (let i = 0; i < 60; i++) expect(window.take(0)).toBe(true)
    expect(window.take(999)).toBe(false)
    expect(window.take(1000)).toBe(true)
    expect(window.isFull(61_000)).toBe(true)
  })

  it('refuses a rate that is not a number >= 0', () => {
    expect(() => new TokenBucket({ capacity: Number.NaN, perMs: 1 }, 0)).toThrow(RangeError)
    expect(() => new TokenBucket({ capacity: 1, perMs: -1 }, 0)).toThrow(RangeError)
  })
})
