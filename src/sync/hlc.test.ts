import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareHlc, HLC_MAX_COUNTER, HybridClock, isHlc, type Hlc } from './hlc.js'

const after = (a: Hlc, b: Hlc): boolean => compareHlc(a, b) > 0

describe('HybridClock', () => {
  it('stamps strictly increase, whatever the physical clock does (jumps back, stalls)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 42 }), { minLength: 1, maxLength: 200 }), (times) => {
        const clock = new HybridClock()
        let prev: Hlc | undefined
        for (const t of times) {
          const stamp = clock.tick(t)
          expect(stamp.ms).toBeGreaterThanOrEqual(t) // never behind physical time
          if (prev !== undefined) expect(after(stamp, prev)).toBe(true)
          prev = stamp
        }
      }),
    )
  })

  it('orders every message after its send on the receiver (happened-before), across nodes with skewed clocks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -60_000, max: 60_000 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(2), fc.nat(2), fc.nat(50)), { minLength: 1, maxLength: 300 }),
        (skews, steps) => {
          const clocks = skews.map(() => new HybridClock())
          let real = 1_700_000_000_000
          for (const [from, to, dt] of steps) {
            real += dt
            const sent = clocks[from]!.tick(real + skews[from]!)
            if (from === to) continue
            expect(clocks[to]!.observe(sent, real + skews[to]!)).toBe('ok') // skews are within the drift bound
            expect(after(clocks[to]!.tick(real + skews[to]!), sent)).toBe(true)
          }
          // No clock ran ahead of the fastest physical clock by more than the counters carried.
          const fastest = real + Math.max(...skews)
          for (const c of clocks) expect(c.last.ms).toBeLessThanOrEqual(fastest + Math.ceil(steps.length / HLC_MAX_COUNTER) + 1)
        },
      ),
    )
  })

  it('does not absorb a stamp further ahead than maxDriftMs: the caller holds the write back', () => {
    const clock = new HybridClock({ maxDriftMs: 1_000 })
    const mine = clock.tick(10_000)
    expect(clock.observe({ ms: 11_001, counter: 0 }, 10_000)).toBe('ahead')
    expect(clock.last).toEqual(mine)
    expect(clock.observe({ ms: 11_000, counter: 7 }, 10_000)).toBe('ok') // exactly at the bound
    expect(clock.last).toEqual({ ms: 11_000, counter: 8 })
    expect(clock.observe({ ms: 11_001, counter: 0 }, 10_001)).toBe('ok') // its time came
  })

  it('follows the algorithm case by case', () => {
    const c = new HybridClock()
    expect(c.tick(100)).toEqual({ ms: 100, counter: 0 })
    expect(c.tick(100)).toEqual({ ms: 100, counter: 1 }) // same ms: counter
    c.observe({ ms: 100, counter: 5 }, 90) // l = l' = l.m: max(c, c.m) + 1
    expect(c.last).toEqual({ ms: 100, counter: 6 })
    c.observe({ ms: 50, counter: 9 }, 90) // l = l': c + 1
    expect(c.last).toEqual({ ms: 100, counter: 7 })
    c.observe({ ms: 120, counter: 3 }, 90) // l = l.m: c.m + 1
    expect(c.last).toEqual({ ms: 120, counter: 4 })
    c.observe({ ms: 10, counter: 3 }, 130) // l = pt: 0
    expect(c.last).toEqual({ ms: 130, counter: 0 })
  })

  it('carries a full counter into the next millisecond instead of wrapping', () => {
    const c = new HybridClock({}, { ms: 5, counter: HLC_MAX_COUNTER - 1 })
    expect(c.tick(5)).toEqual({ ms: 5, counter: HLC_MAX_COUNTER })
    expect(c.tick(5)).toEqual({ ms: 6, counter: 0 })
    expect(c.tick(6)).toEqual({ ms: 6, counter: 1 })
  })

  it('restored from its last stamp, never stamps below it even if the physical clock went back', () => {
    const c = new HybridClock({}, { ms: 2_000_000_000_000, counter: 3 })
    expect(after(c.tick(1_000), { ms: 2_000_000_000_000, counter: 3 })).toBe(true)
  })

  it('isHlc accepts only what a peer may send', () => {
    expect(isHlc({ ms: 2 ** 41, counter: 0 })).toBe(true)
    for (const bad of [null, 1, {}, { ms: -1, counter: 0 }, { ms: 1.5, counter: 0 }, { ms: 1, counter: HLC_MAX_COUNTER + 1 }, { ms: 2 ** 53, counter: 0 }, { ms: '1', counter: 0 }]) {
      expect(isHlc(bad)).toBe(false)
    }
    expect(() => new HybridClock({ maxDriftMs: -1 })).toThrow(RangeError)
  })
})
