import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError } from '../errors.js'
import { B58_ALPHABET, RING, b58decode, b58encode, distance, isB58, nodeIdFromBytes, nodeIdFromPublicKey, protocolId, ringPosition } from './index.js'

describe('base58 over integers', () => {
  it('edge cases', () => {
    expect(b58encode(0n)).toBe('1')
    expect(b58encode(57n)).toBe('z')
    expect(b58encode(58n)).toBe('21')
    const max = RING - 1n
    const s = b58encode(max)
    expect(s).toHaveLength(66)
    expect(b58decode(s)).toBe(max)
    expect(b58decode('1')).toBe(0n)
    // Leading "1"s are zeros of an integer, not preserved zero bytes.
    expect(b58decode('1121')).toBe(58n)
  })

  it('round-trips any non-negative integer', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 520n) - 1n }), (n) => {
        const s = b58encode(n)
        expect(isB58(s)).toBe(true)
        expect(b58decode(s)).toBe(n)
      }),
    )
  })

  it('named errors for bad input', () => {
    for (const s of ['', '0', 'O', 'I', 'l', 'abc-', ' 1', '1'.repeat(181)]) {
      expect(() => b58decode(s)).toThrow(expect.objectContaining({ code: 'INVALID_BASE58' }))
    }
    expect(() => b58encode(-1n)).toThrow(WireError)
    expect(() => b58encode(5 as unknown as bigint)).toThrow(expect.objectContaining({ code: 'INVALID_BASE58' }))
    expect(isB58('abc', 2)).toBe(false)
    expect(B58_ALPHABET).toHaveLength(58)
  })
})

describe('ids', () => {
  it('protocol id depends on subnet and transport', () => {
    expect(protocolId('demo', 'webrtc')).not.toBe(protocolId('demo', 'webrtc-signed'))
    expect(protocolId('a', 'bc')).toBe(protocolId('ab', 'c')) // 0.7 concatenates without a separator
    expect(() => protocolId(1 as unknown as string, 'x')).toThrow(TypeError)
  })

  it('node ids are 384-bit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const id = nodeIdFromPublicKey(key)
        expect(id).toBe(nodeIdFromBytes(key))
        expect(b58decode(id) < RING).toBe(true)
      }),
    )
    expect(() => nodeIdFromPublicKey(new Uint8Array(31))).toThrow(TypeError)
  })
})

describe('ring arithmetic', () => {
  it('distance is (b - a) mod 2^384 and wraps', () => {
    expect(distance(0n, 0n)).toBe(0n)
    expect(distance(RING - 1n, 0n)).toBe(1n)
    expect(distance(0n, RING - 1n)).toBe(RING - 1n)
    expect(distance(1n, 0n)).toBe(RING - 1n)
    expect(() => distance(1n, 2n, 0n)).toThrow(RangeError)
  })

  it('distances around the ring add up', () => {
    const pos = fc.bigInt({ min: 0n, max: RING - 1n })
    fc.assert(
      fc.property(pos, pos, pos, (a, b, c) => {
        expect(distance(a, b) + distance(b, a)).toBe(a === b ? 0n : RING)
        expect((distance(a, b) + distance(b, c)) % RING).toBe(distance(a, c))
      }),
    )
  })

  it('ringPosition reduces mod 2^384', () => {
    expect(ringPosition(RING)).toBe(0n)
    expect(ringPosition(RING + 5n)).toBe(5n)
    expect(ringPosition(-1n)).toBe(RING - 1n)
  })
})
