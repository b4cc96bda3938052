import { describe, expect, it } from 'vitest'
import { binaryKey, bytesToBigInt, concatBytes, fromHex, toHex } from './bytes.js'

describe('byte keys', () => {
  it('toHex and fromHex round-trip every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(toHex(all).slice(0, 8)).toBe('00010203')
    expect(fromHex(toHex(all))).toEqual(all)
    expect(fromHex('ABcd')).toEqual(Uint8Array.of(0xab, 0xcd))
  })

  it('fromHex refuses odd lengths and non-hex characters', () => {
    for (const bad of ['abc', 'zz', '0x00', ' 00']) expect(() => fromHex(bad)).toThrow(RangeError)
  })

  it('binaryKey is one char per byte and tells different ids apart', () => {
    const a = new Uint8Array(32).fill(0xff)
    const b = a.slice()
    b[31] = 0xfe
    expect(binaryKey(a)).toHaveLength(32)
    expect(binaryKey(a)).toBe(binaryKey(a.slice()))
    expect(binaryKey(a)).not.toBe(binaryKey(b))
    expect(binaryKey(new Uint8Array([0, 1, 255])).split('').map((c) => c.charCodeAt(0))).toEqual([0, 1, 255])
  })
})

describe('numbers and joins', () => {
  it('bytesToBigInt reads big-endian, leading zeros included', () => {
    expect(bytesToBigInt(new Uint8Array())).toBe(0n)
    expect(bytesToBigInt(Uint8Array.of(0, 0, 1, 0))).toBe(256n)
    expect(bytesToBigInt(new Uint8Array(48).fill(0xff))).toBe((1n << 384n) - 1n)
  })

  it('concatBytes joins in order into a new array', () => {
    const a = Uint8Array.of(1, 2)
    const joined = concatBytes(a, new Uint8Array(), Uint8Array.of(3))
    expect(joined).toEqual(Uint8Array.of(1, 2, 3))
    joined[0] = 9
    expect(a[0]).toBe(1)
  })
})
