import { describe, expect, it } from 'vitest'
import { SessionRegistry, type Session } from './registry.js'

/** A seeded LCG: deterministic samples without depending on another module. */
function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const session = (id: string, net = 'netA', ip = '10.0.0.1'): Session<null> => ({ id, net, ip, socket: null })

describe('SessionRegistry', () => {
  it('registers an id once, and removes only the session that holds it', () => {
    const registry = new SessionRegistry<null>()
    const first = session('a')
    expect(registry.add(first)).toBe(true)
    expect(registry.add(session('a'))).toBe(false)
    registry.remove(session('a'))
    expect(registry.get('a')).toBe(first)
    registry.remove(first)
    registry.remove(first)
    expect(registry.has('a')).toBe(false)
    expect(registry.size).toBe(0)
  })

  it('counts sessions per IP', () => {
    const registry = new SessionRegistry<null>()
    const a = session('a', 'n', '1.1.1.1')
    registry.add(a)
    registry.add(session('b', 'n', '1.1.1.1'))
    registry.add(session('c', 'n', '2.2.2.2'))
    expect(registry.countIp('1.1.1.1')).toBe(2)
    registry.remove(a)
    expect(registry.countIp('1.1.1.1')).toBe(1)
    expect(registry.countIp('3.3.3.3')).toBe(0)
  })

  it('relays only to other registered ids of the same subnet', () => {
    const registry = new SessionRegistry<null>()
    const a = session('a', 'netA')
    registry.add(a)
    registry.add(session('b', 'netA'))
    registry.add(session('x', 'netB'))
    expect(registry.canRelay(a, 'b')).toBe(true)
    expect(registry.canRelay(a, 'x')).toBe(false)
    expect(registry.canRelay(a, 'a')).toBe(false)
    expect(registry.canRelay(a, 'nobody')).toBe(false)
  })

  it('samples distinct ids of one subnet, never the asker, at most `limit`', () => {
    const registry = new SessionRegistry<null>()
    for (let i = 0; i < 20; i++) registry.add(session(`a${i}`, 'netA'))
    for (let i = 0; i < 5; i++) registry.add(session(`b${i}`, 'netB'))
    const random = seeded(42)
    const seen = new Set<string>()
    for (let round = 0; round < 50; round++) {
      const sample = registry.sample('netA', 'a0', 8, random)
      expect(sample).toHaveLength(8)
      expect(new Set(sample).size).toBe(8)
      for (const id of sample) {
        expect(id).toMatch(/^a/)
        expect(id).not.toBe('a0')
        seen.add(id)
      }
    }
    // Random, not the same eight every time: every other id of the subnet shows up.
    expect(seen.size).toBe(19)
    expect(registry.sample('netB', 'b0', 8, random).sort()).toEqual(['b1', 'b2', 'b3', 'b4'])
    expect(registry.sample('netC', 'z', 8, random)).toEqual([])
    expect(registry.sample('netA', 'a0', 8, () => 0.9999999999999999)).toHaveLength(8)
  })
})
