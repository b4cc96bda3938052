import { describe, expect, it } from 'vitest'
import { KeyedRateLimiter, TokenBucket, perWindow } from './rate-limit.js'
import { FakeClock } from './testing.js'

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
  })
})

describe('KeyedRateLimiter', () => {
  it('keeps one bucket per key', () => {
    const clock = new FakeClock()
    const limiter = new KeyedRateLimiter(perWindow(2, 60_000), clock.read)
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, false])
    expect(limiter.take('b')).toBe(true)
    clock.advance(30_000)
    expect(limiter.take('a')).toBe(true)
    expect(limiter.take('a')).toBe(false)
  })

  it('forgets refilled keys when full, and fails closed while every tracked key is busy', () => {
    const clock = new FakeClock()
    const limiter = new KeyedRateLimiter(perWindow(1, 1000), clock.read, 2)
    expect(limiter.take('a')).toBe(true)
    expect(limiter.take('b')).toBe(true)
    expect(limiter.take('c')).toBe(false)
    expect(limiter.size).toBe(2)
    clock.advance(1000)
    expect(limiter.take('c')).toBe(true)
    expect(limiter.size).toBe(1)
  })
})
