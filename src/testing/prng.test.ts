import { describe, expect, it } from 'vitest'
import { Prng } from './prng.js'

describe('Prng', () => {
  it('is a pure function of its seed', () => {
    const draw = (seed: number): number[] => {
      const p = new Prng(seed)
      return Array.from({ length: 5 }, () => p.uint32())
    }
    expect(draw(1)).toEqual(draw(1))
    expect(draw(1)).not.toEqual(draw(2))
    // pinned: a change to the generator would silently change every recorded failing seed
    expect(draw(0)).toMatchInlineSnapshot(`
      [
        4205396811,
        3543653536,
        1222415357,
        3047368389,
        387095348,
      ]
    `)
  })

  it('next() is in [0, 1) and int(n) in [0, n), roughly uniform', () => {
    const p = new Prng(7)
    const counts = new Array<number>(10).fill(0)
    for (let i = 0; i < 100_000; i++) {
      const x = p.next()
      expect(x >= 0 && x < 1).toBe(true)
      const k = p.int(10)
      counts[k] = (counts[k] ?? 0) + 1
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500)
    expect(() => p.int(0)).toThrow(RangeError)
    expect(() => p.int(1.5)).toThrow(RangeError)
  })

  it('pick, shuffle, chance, range, bytes', () => {
    const p = new Prng(3)
    const items = ['a', 'b', 'c', 'd']
    expect(items).toContain(p.pick(items))
    expect(() => p.pick([])).toThrow(RangeError)
    const shuffled = p.shuffle([...items])
    expect([...shuffled].sort()).toEqual(items)
    expect([p.chance(0), p.chance(1)]).toEqual([false, true])
    const r = p.range(5, 6)
    expect(r >= 5 && r < 6).toBe(true)
    expect(p.bytes(7)).toHaveLength(7)
    expect(new Prng(9).bytes(9)).toEqual(new Prng(9).bytes(9))
  })

  it('fork() gives an independent, reproducible stream and advances the parent once', () => {
    const a = new Prng(11)
    const b = new Prng(11)
    const childA = a.fork()
    const childB = b.fork()
    expect(childA.uint32()).toBe(childB.uint32())
    expect(a.uint32()).toBe(b.uint32())
    expect(childA.uint32()).not.toBe(a.uint32())
  })
})
