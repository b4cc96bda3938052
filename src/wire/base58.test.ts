import { describe, expect, it } from 'vitest'
import { MAX_ID_LENGTH, b58encode, isB58, isNodeId } from './base58.js'
import { nodeIdFromBytes, protocolId } from './ids.js'

describe('isNodeId', () => {
  it('caps ids at the length of the largest 384-bit integer in base58', () => {
    expect(b58encode((1n << 384n) - 1n)).toHaveLength(MAX_ID_LENGTH)
    expect(b58encode(58n ** 65n - 1n).length).toBe(65)
    expect(58n ** 65n < 1n << 384n).toBe(true)
    expect(isNodeId(b58encode((1n << 384n) - 1n))).toBe(true)
    expect(isNodeId('2'.repeat(MAX_ID_LENGTH + 1))).toBe(false)
    expect(b58encode((1n << 256n) - 1n).length).toBeLessThanOrEqual(44)
  })

  it('accepts real node ids and protocol ids', () => {
    expect(isNodeId(nodeIdFromBytes('a node'))).toBe(true)
    expect(isNodeId(protocolId('chat', 'webrtc'))).toBe(true)
    expect(isNodeId('1')).toBe(true)
  })

  it('refuses what is not a base58 string', () => {
    for (const bad of ['', '0', 'O', 'I', 'l', 'abc def', 'abc\n', 'é', 42, null, undefined, new Uint8Array([0x32])]) {
      expect(isNodeId(bad)).toBe(false)
    }
  })

  it('is isB58 with the id cap', () => {
    const long = '3'.repeat(100)
    expect(isB58(long)).toBe(true)
    expect(isNodeId(long)).toBe(false)
  })
})
