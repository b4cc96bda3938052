import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SeenCache } from './seen-cache.js'

describe('SeenCache', () => {
  it('reports each id new once', () => {
    const c = new SeenCache()
    expect(c.add('a', 0)).toBe(true)
    expect(c.add('a', 1)).toBe(false)
    expect(c.has('a', 2)).toBe(true)
    expect(c.has('b', 2)).toBe(false)
  })

  it('forgets the oldest past maxEntries', () => {
    const c = new SeenCache({ maxEntries: 3 })
    for (const id of ['a', 'b', 'c', 'd']) c.add(id, 0)
    expect(c.size).toBe(3)
    expect(c.has('a', 0)).toBe(false)
    expect(c.has('d', 0)).toBe(true)
  })

  it('forgets by age on the local clock, whatever the sender claimed', () => {
    const c = new SeenCache({ maxAgeMs: 1000 })
    c.add('a', 0)
    c.add('b', 600)
    expect(c.has('a', 1000)).toBe(true)
    expect(c.has('a', 1001)).toBe(false)
    expect(c.has('b', 1001)).toBe(true)
    expect(c.add('a', 1002)).toBe(true)
  })

  it('never holds more than maxEntries, and agrees with a model within its window', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 50 })), { maxLength: 300 }), (ops) => {
        const c = new SeenCache({ maxEntries: 8, maxAgeMs: 100 })
        const model = new Map<string, number>()
        let now = 0
        for (const [idNum, dt] of ops) {
          now += dt
          for (const [k, t] of model) if (now - t > 100) model.delete(k)
          const id = String(idNum)
          const fresh = !model.has(id)
          expect(c.add(id, now)).toBe(fresh)
          if (fresh) {
            model.set(id, now)
            if (model.size > 8) model.delete(model.keys().next().value!)
          }
          expect(c.size).toBeLessThanOrEqual(8)
        }
      }),
    )
  })
})
