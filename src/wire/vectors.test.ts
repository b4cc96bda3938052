import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex, utf8 } from '../util/bytes.js'
import vectors from './fixtures/vectors-0.7.json' with { type: 'json' }
import {
  COMPRESSION,
  RING,
  b58decode,
  b58encode,
  chordPositions,
  decodeFrame,
  distance,
  encodeFrame,
  nodeIdFromBytes,
  protocolId,
} from './index.js'

// The vectors were produced by the original Python implementation (py2p 0.7.878); the project
// keeps its own copy in fixtures/ because a user's clone has no ../shared.
const { sender, timestamp } = vectors

const FRAMES = [
  { name: 'msg_broadcast_hello', payload: [0, utf8('hello')], compression: undefined },
  { name: 'msg_broadcast_hello_strpayload', payload: [0, 'hello'], compression: undefined },
  { name: 'msg_broadcast_hello_zlib', payload: [0, utf8('hello')], compression: COMPRESSION.zlib },
] as const

describe('p2p.today 0.7 vectors', () => {
  for (const { name, payload, compression } of FRAMES) {
    const v = vectors.messages[name]
    it(`${name}: encodes byte-for-byte`, () => {
      const frame = encodeFrame(
        { type: 0, sender, time: timestamp, payload: [...payload] },
        compression === undefined ? {} : { compression },
      )
      expect(toHex(frame)).toBe(v.frame_hex)
      expect(frame.length).toBe(v.frame_len)
    })
    it(`${name}: decodes back`, () => {
      const decoded = decodeFrame(fromHex(v.frame_hex), compression === undefined ? {} : { compressions: [compression] })
      expect(decoded.type).toBe(0)
      expect(decoded.sender).toBe(sender)
      expect(decoded.time).toBe(timestamp)
      expect(decoded.payload).toEqual([...payload])
      expect(toHex(decoded.id)).toBe(v.id_hex)
    })
  }

  it('the zlib vector is not readable without negotiating zlib', () => {
    expect(() => decodeFrame(fromHex(vectors.messages.msg_broadcast_hello_zlib.frame_hex))).toThrow(
      expect.objectContaining({ code: 'FRAME_CHECKSUM' }),
    )
  })

  it('protocol ids', () => {
    expect(protocolId('', 'Plaintext')).toBe(vectors.protocol_ids["('', 'Plaintext')"])
    expect(protocolId('mesh', 'Plaintext')).toBe(vectors.protocol_ids["('mesh', 'Plaintext')"])
  })

  it('node id from the 0.7 preimage', () => {
    expect(nodeIdFromBytes(vectors.node_id.preimage)).toBe(vectors.node_id.id_via_BaseSocket)
    expect(b58encode(BigInt('0x' + vectors.node_id.sha384_hex))).toBe(vectors.node_id.id_recomputed)
  })

  it('base58 of integers', () => {
    for (const [n, s] of Object.entries(vectors.base58_of_int)) {
      expect(b58encode(BigInt(n))).toBe(s)
      expect(b58decode(s)).toBe(BigInt(n))
    }
    expect(b58encode(BigInt(timestamp))).toBe(vectors.time_58_of_T)
  })

  it('chord positions of b"test"', () => {
    const expected = Object.values(vectors.chord_hashes['74657374 (b\'test\')'])
    const positions = chordPositions(utf8('test'))
    expect(positions).toHaveLength(5)
    expect(chordPositions('test')).toEqual(positions)
    positions.forEach((p, i) => {
      expect(p).toBe(BigInt(expected[i]!.int_hex))
      expect(b58encode(p)).toBe(expected[i]!.b58_on_wire)
    })
    expect(positions[4]! >= RING).toBe(true) // the sha512 position stays unreduced, as in 0.7
  })

  it('ring distance', () => {
    // JSON.parse rounds these 384-bit integers to doubles: read their exact digits from the text.
    const text = readFileSync(new URL('./fixtures/vectors-0.7.json', import.meta.url), 'utf8')
    const exact = (key: string): bigint => BigInt(new RegExp(`"${key.replace(/[()]/g, '\\$&')}": (\\d+)`).exec(text)![1]!)
    expect(distance(10n, 5n)).toBe(exact('d(10,5)'))
    expect(distance(5n, 10n)).toBe(exact('d(5,10)'))
    expect(distance(5n, 10n, 7n)).toBe(exact('d(5,10,limit=7)'))
    expect(RING).toBe(BigInt(vectors.chord_limit_hex))
  })
})
