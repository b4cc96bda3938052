import { describe, expect, it } from 'vitest'
import { binaryKey, fromHex, toHex } from './bytes.js'

describe('byte keys', () => {
  it('toHex and fromHex round-trip every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(toHex(all).slice(0, 8)).toBe('00010203')
    expect(fromHex(toHex(all))).toEqual(all)
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
