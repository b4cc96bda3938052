import { describe, expect, it } from 'vitest'
import { BoundedMap } from './bounded-map.js'

describe('BoundedMap', () => {
  it('drops the oldest entry when an insert goes past maxEntries', () => {
    const map = new BoundedMap<string, number>(3)
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) map.set(k, i)
    expect([...map]).toEqual([
      ['b', 1],
      ['c', 2],
      ['d', 3],
    ])
    expect(map.has('a')).toBe(false)
  })

  it('set on a present key moves it last and drops nothing', () => {
    const map = new BoundedMap<string, number>(3)
    map.set('a', 1).set('b', 2).set('c', 3)
    map.set('a', 10)
    expect([...map.keys()]).toEqual(['b', 'c', 'a'])
    map.set('d', 4)
    expect([...map.keys()]).toEqual(['c', 'a', 'd'])
    expect(map.get('a')).toBe(10)
  })

  it('get leaves the order alone; touch makes the key newest (LRU)', () => {
    const map = new BoundedMap<string, number | undefined>(2)
    map.set('a', 1).set('b', undefined)
    expect(map.get('a')).toBe(1)
    expect([...map.keys()]).toEqual(['a', 'b'])
    expect(map.touch('a')).toBe(1)
    expect([...map.keys()]).toEqual(['b', 'a'])
    expect(map.touch('b')).toBeUndefined()
    expect([...map.keys()]).toEqual(['a', 'b'])
    expect(map.touch('zz')).toBeUndefined()
    expect(map.size).toBe(2)
    map.set('c', 3)
    expect([...map.keys()]).toEqual(['b', 'c'])
  })

  it('is a Map: delete, clear, iteration with deletes', () => {
    const map = new BoundedMap<number, number>(10)
    for (let i = 0; i < 15; i++) map.set(i, i)
    expect(map.size).toBe(10)
    expect(map).toBeInstanceOf(Map)
    for (const [k] of map) if (k < 8) map.delete(k)
    expect([...map.values()]).toEqual([8, 9, 10, 11, 12, 13, 14])
    map.clear()
    expect(map.size).toBe(0)
  })

  it('holds nothing with maxEntries 0, and refuses a bound that is not a number >= 0', () => {
    const map = new BoundedMap<string, number>(0)
    map.set('a', 1)
    expect(map.size).toBe(0)
    expect(() => new BoundedMap(-1)).toThrow(RangeError)
    expect(() => new BoundedMap(Number.NaN)).toThrow(RangeError)
  })
})
