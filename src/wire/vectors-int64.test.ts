import { readFileSync } from 'node:fs'
import { encode as msgpackEncode } from '@msgpack/msgpack'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { int64VectorsJson, type Int64FrameVector } from '../testing/int64-vectors.js'
import { fromHex, toHex } from '../util/bytes.js'
import vectors from './fixtures/vectors-int64.json' with { type: 'json' }
import { decodeFrame, encodeFrame } from './index.js'
import { packArray, unpackArray } from './payload.js'

// Integers beyond 32 bits as py2p 0.7 sends them (docs/protocol.md, "Frame"): a safe integer is
// msgpack uint64/int64, never float64. The fixture is built from the msgpack specification by
// src/testing/int64-vectors.ts, independently of the codec. In Chromium: e2e/wire-lab.spec.ts.
const { sender, timestamp } = vectors
const LIMITS = { maxItems: 100, maxDepth: 8, maxBytes: 1_000 }
const NAMES = ['msg_broadcast_int64', 'msg_broadcast_int_edges'] as const

describe('64-bit integer vectors (vectors-int64.json)', () => {
  it('the fixture is what src/testing/int64-vectors.ts builds', () => {
    expect(readFileSync(new URL('./fixtures/vectors-int64.json', import.meta.url), 'utf8')).toBe(int64VectorsJson())
  })

  it('each integer alone: the number, and the bigint of the same value, give the vector bytes', () => {
    for (const { value, msgpack_hex } of vectors.values) {
      // packArray([v]) is a one-item fixarray (0x91) before the value.
      expect(toHex(packArray([value])), String(value)).toBe(`91${msgpack_hex}`)
      const int64 = msgpack_hex.startsWith('cf') || msgpack_hex.startsWith('d3')
      if (int64) expect(toHex(packArray([BigInt(value)])), `${value}n`).toBe(`91${msgpack_hex}`)
    }
  })

  for (const name of NAMES) {
    const v: Int64FrameVector = vectors.messages[name]
    it(`${name}: encodes byte-for-byte`, () => {
      const frame = encodeFrame({ type: 0, sender, time: timestamp, payload: [...v.payload] })
      expect(toHex(frame)).toBe(v.frame_hex)
      expect(frame.length).toBe(v.frame_len)
    })
    it(`${name}: decodes back to the same numbers`, () => {
      const decoded = decodeFrame(fromHex(v.frame_hex))
      expect({ type: decoded.type, sender: decoded.sender, time: decoded.time }).toEqual({ type: 0, sender, time: timestamp })
      expect(decoded.payload).toEqual(v.payload)
      for (const item of decoded.payload) expect(typeof item).toBe('number')
      expect(toHex(decoded.id)).toBe(v.id_hex)
    })
  }

  it('as an id check: the library alone (useBigInt64) would have sent float64, another message id', () => {
    const v = vectors.messages.msg_broadcast_int64
    const asFloats = msgpackEncode([0, new TextEncoder().encode(sender), timestamp, ...v.payload], { useBigInt64: true })
    expect(toHex(asFloats)).not.toBe(v.p_hex)
    expect(toHex(asFloats)).toContain('cb41f0000000000000') // 2^32 as float64
  })
})

describe('integers and floats around the 64-bit forms', () => {
  const hex = (v: unknown): string => toHex(packArray([v])).slice(2)

  it('32-bit integers keep their smallest form; non-integers and unsafe numbers are float64', () => {
    expect(hex(0xffff_ffff)).toBe('ceffffffff')
    expect(hex(-(2 ** 31))).toBe('d280000000')
    expect(hex(-1)).toBe('ff')
    expect(hex(1.5)).toBe('cb3ff8000000000000')
    expect(hex(2 ** 32 + 0.5)).toBe('cb41f0000000080000')
    // 2^53 is not a safe integer: as a number it may stand for 2^53 + 1, so it stays a float.
    // Integers beyond 2^53 - 1 are sent exactly as bigint.
    expect(hex(2 ** 53)).toBe('cb4340000000000000')
    expect(hex(-(2 ** 53))).toBe('cbc340000000000000')
    expect(hex(2n ** 53n)).toBe('cf0020000000000000')
    expect(hex(NaN)).toBe('cb7ff8000000000000')
    expect(hex(Infinity)).toBe('cb7ff0000000000000')
  })

  it('every safe integer: beyond 32 bits the bytes of the same value as a bigint, else the library\'s', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.integer({ min: -(2 ** 36), max: 2 ** 36 })), (n) => {
        const int64 = n >= 2 ** 32 || n < -(2 ** 31)
        expect(toHex(packArray([n]))).toBe(toHex(msgpackEncode([int64 ? BigInt(n) : n], { useBigInt64: true })))
      }),
      { numRuns: 2_000 },
    )
  })

  it('bigints keep their 64-bit forms, whatever their size', () => {
    expect(hex(5n)).toBe('cf0000000000000005')
    expect(hex(-1n)).toBe('d3ffffffffffffffff')
    expect(hex(2n ** 64n - 1n)).toBe('cfffffffffffffffff')
    expect(hex(-(2n ** 63n))).toBe('d38000000000000000')
  })

  it('nested values are encoded by the same rule', () => {
    expect(toHex(packArray([{ t: 2 ** 40 }, [-(2 ** 40)]]))).toBe('9281a174cf0000010000000000' + '91d3ffffff0000000000')
  })

  it('decoding: an int that is a safe integer is a number, any other a bigint', () => {
    const ints = ['cf001fffffffffffff', 'd3ffe0000000000001', 'cf0020000000000000', 'd3ffdfffffffffffff', 'ce00000001', 'cf0000000000000001']
    const decoded = unpackArray(fromHex(`96${ints.join('')}`), LIMITS)
    expect(decoded).toEqual([2 ** 53 - 1, -(2 ** 53 - 1), 2n ** 53n, -(2n ** 53n) - 1n, 1, 1])
  })

  it('re-entering the encoder (a getter that encodes) keeps the rule', () => {
    let inner = ''
    const value = {
      get x(): number {
        inner = toHex(packArray([2 ** 32]))
        return 1
      },
    }
    expect(toHex(packArray([value]))).toBe('9181a17801')
    expect(inner).toBe('91cf0000000100000000')
  })
})
