import { describe, expect, it } from 'vitest'
import { KeyedRateLimiter, perWindow } from './rate-limit.js'
import { FakeClock } from './testing.js'

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
