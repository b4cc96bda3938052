import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encode as msgpackEncode } from '@msgpack/msgpack'
import { deflate } from 'pako'
import { sha256 } from '@noble/hashes/sha2.js'
import { WIRE_ERROR_CODES, WireError } from '../errors.js'
import { frameMessage } from '../testing/arbitraries.js'
import { thrownCode } from '../testing/thrown-code.js'
import { concatBytes, utf8 } from '../util/bytes.js'
import { isPromise } from '../util/serial.js'
import { COMPRESSION, FRAME_DEFAULTS, SUPPORTED_COMPRESSIONS, decodeFrame, encodeFrame, frameBody } from './index.js'
import { ASYNC_DIGEST_BYTES, LEN_BYTES, bodyOf, decodeFrameWith, encodeBody, packFrame, syncDigest, webDigest, type Digest } from './frame.js'

const SENDER = '6VnYj9LjoVLTvU3uPhy4nxm6yv2wEvhaRtGHeV9wwFngWGGqKAzuZ8jK6gFuvq737V'
const METHODS = [undefined, ...SUPPORTED_COMPRESSIONS]

/** A frame around arbitrary msgpack bytes P, with a correct checksum: hostile but well-framed. */
function frameOfPacked(packed: Uint8Array): Uint8Array {
  return frameBody(concatBytes(sha256(packed), packed), Number.MAX_SAFE_INTEGER)
}

const codeOf = (fn: () => unknown): string => thrownCode(fn, WireError)

/**
 * The reference encoding for message ids: @msgpack/msgpack writes a safe integer beyond 32 bits as
 * float64 but a bigint as uint64/int64, so such numbers become bigints first (py2p's int rule).
 */
function int64sAsBigints(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) && (v >= 2 ** 32 || v < -(2 ** 31)) ? BigInt(v) : v
  if (Array.isArray(v)) return v.map(int64sAsBigints)
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, int64sAsBigints(x)]))
}

describe('frame round trip', () => {
  it('random messages round-trip through every compression method', () => {
    fc.assert(
      fc.property(frameMessage, fc.constantFrom(...METHODS), (msg, method) => {
        const frame = encodeFrame(msg, method === undefined ? {} : { compression: method })
        const decoded = decodeFrame(frame, { compressions: [...SUPPORTED_COMPRESSIONS] })
        expect(decoded).toMatchObject({ type: msg.type, sender: msg.sender, time: msg.time })
        expect(decoded.payload).toEqual(msg.payload)
        expect(decoded.id).toEqual(sha256(msgpackEncode(int64sAsBigints([msg.type, utf8(msg.sender), msg.time, ...msg.payload]), { useBigInt64: true })))
      }),
      { numRuns: 400 },
    )
  })

  it('accepts the sender as msgpack str (js2p) as well as bin (py2p)', () => {
    const frame = frameOfPacked(msgpackEncode([0, SENDER, 1500000000, 0, 'hello']))
    expect(decodeFrame(frame)).toMatchObject({ sender: SENDER, payload: [0, 'hello'] })
  })

  it('int64 values become numbers when safe and bigints otherwise', () => {
    const frame = encodeFrame({ type: 0, sender: SENDER, time: 1, payload: [0, 5n, 2n ** 60n, -(2n ** 60n)] })
    expect(decodeFrame(frame).payload).toEqual([0, 5, 2n ** 60n, -(2n ** 60n)])
  })
})

describe('every corruption of a valid frame is a named decode error', () => {
  const isWireCode = (code: string): boolean => (WIRE_ERROR_CODES as readonly string[]).includes(code)

  it('truncation at any length', () => {
    fc.assert(
      fc.property(frameMessage, fc.constantFrom(...METHODS), fc.nat(), (msg, method, cut) => {
        const frame = encodeFrame(msg, method === undefined ? {} : { compression: method })
        const short = frame.subarray(0, cut % frame.length)
        const code = codeOf(() => decodeFrame(short, { compressions: [...SUPPORTED_COMPRESSIONS] }))
        expect(['FRAME_TRUNCATED', 'FRAME_LENGTH_MISMATCH']).toContain(code)
      }),
      { numRuns: 300 },
    )
  })

  it('a wrong LEN', () => {
    fc.assert(
      fc.property(frameMessage, fc.integer({ min: 0, max: 0xffff_ffff }), (msg, len) => {
        const frame = encodeFrame(msg)
        fc.pre(len !== frame.length - 4)
        const bad = frame.slice()
        new DataView(bad.buffer).setUint32(0, len)
        expect(['FRAME_LENGTH_MISMATCH', 'FRAME_TOO_LARGE']).toContain(codeOf(() => decodeFrame(bad)))
      }),
      { numRuns: 300 },
    )
  })

  it('a flipped bit anywhere in a raw frame', () => {
    fc.assert(
      fc.property(frameMessage, fc.nat(), fc.integer({ min: 0, max: 7 }), (msg, at, bit) => {
        const frame = encodeFrame(msg)
        const bad = frame.slice()
        bad[at % bad.length]! ^= 1 << bit
        const code = codeOf(() => decodeFrame(bad, { compressions: [...SUPPORTED_COMPRESSIONS] }))
        expect(isWireCode(code)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('a flipped bit in a compressed frame: an error, or (deflate padding, gzip mtime/os bytes) the very same message', () => {
    fc.assert(
      fc.property(frameMessage, fc.constantFrom(...SUPPORTED_COMPRESSIONS), fc.nat(), fc.integer({ min: 0, max: 7 }), (msg, method, at, bit) => {
        const frame = encodeFrame(msg, { compression: method })
        const original = decodeFrame(frame, { compressions: [method] })
        const bad = frame.slice()
        bad[at % bad.length]! ^= 1 << bit
        try {
          const decoded = decodeFrame(bad, { compressions: [method] })
          expect(decoded.id).toEqual(original.id)
          expect(decoded.payload).toEqual(original.payload)
        } catch (err: unknown) {
          expect(err).toBeInstanceOf(WireError)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('random bytes never throw anything but a WireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, framed) => {
        const input = framed ? frameBody(bytes) : bytes
        const code = codeOf(() => decodeFrame(input, { compressions: [...SUPPORTED_COMPRESSIONS] }))
        expect(isWireCode(code)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('hostile but well-framed input', () => {
  it('refuses an announced 4 GiB frame before reading it', () => {
    const head = new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3])
    expect(codeOf(() => decodeFrame(head))).toBe('FRAME_TOO_LARGE')
  })

  it('honours a configured maxFrameBytes', () => {
    const frame = encodeFrame({ type: 0, sender: SENDER, time: 1, payload: [0, new Uint8Array(2000)] })
    expect(codeOf(() => decodeFrame(frame, { maxFrameBytes: 1000 }))).toBe('FRAME_TOO_LARGE')
    expect(codeOf(() => encodeFrame({ type: 0, sender: SENDER, time: 1, payload: [0, new Uint8Array(2000)] }, { maxFrameBytes: 1000 }))).toBe(
      'FRAME_TOO_LARGE',
    )
  })

  it('stops inflating a decompression bomb at maxFrameBytes', () => {
    const packed = msgpackEncode([0, SENDER, 1, 0, new Uint8Array(FRAME_DEFAULTS.maxFrameBytes + 1)])
    const bomb = frameBody(deflate(concatBytes(sha256(packed), packed), { level: 9 }))
    expect(bomb.length).toBeLessThan(64 * 1024)
    expect(codeOf(() => decodeFrame(bomb, { compressions: [COMPRESSION.zlib] }))).toBe('FRAME_TOO_LARGE')
  })

  it('too many items', () => {
    const frame = frameOfPacked(msgpackEncode([0, SENDER, 1, 0, new Array(100).fill(1)]))
    expect(codeOf(() => decodeFrame(frame, { maxItems: 50 }))).toBe('FRAME_TOO_MANY_ITEMS')
    // Spread over many small arrays, the total still counts.
    const spread = frameOfPacked(msgpackEncode([0, SENDER, 1, 0, ...new Array(20).fill([1, 2, 3])]))
    expect(codeOf(() => decodeFrame(spread, { maxItems: 50 }))).toBe('FRAME_TOO_MANY_ITEMS')
  })

  it('too deep', () => {
    let nested: unknown = 1
    for (let i = 0; i < 40; i++) nested = [nested]
    const frame = frameOfPacked(msgpackEncode([0, SENDER, 1, 0, nested]))
    expect(codeOf(() => decodeFrame(frame))).toBe('FRAME_TOO_DEEP')
    expect(codeOf(() => encodeFrame({ type: 0, sender: SENDER, time: 1, payload: [0, nested] }))).toBe('INVALID_PAYLOAD')
  })

  it('extension types, timestamps included', () => {
    const ext = new Uint8Array([0x94, 0x00, 0xa1, 0x31, 0x01, 0xd4, 0x05, 0x00])
    expect(codeOf(() => decodeFrame(frameOfPacked(ext)))).toBe('FRAME_UNSUPPORTED_TYPE')
    const timestamp = new Uint8Array([0x94, 0x00, 0xa1, 0x31, 0x01, 0xd6, 0xff, 0, 0, 0, 1])
    expect(codeOf(() => decodeFrame(frameOfPacked(timestamp)))).toBe('FRAME_UNSUPPORTED_TYPE')
  })

  it('bad shapes', () => {
    const cases: unknown[] = [
      { not: 'an array' },
      [0, SENDER],
      [-1, SENDER, 1, 0],
      [0.5, SENDER, 1, 0],
      [0, 'not base58 0OIl', 1, 0],
      [0, '', 1, 0],
      [0, 'z'.repeat(101), 1, 0],
      [0, 12, 1, 0],
      [0, SENDER, 1.5, 0],
      [0, SENDER, 'yesterday', 0],
    ]
    for (const c of cases) expect(codeOf(() => decodeFrame(frameOfPacked(msgpackEncode(c))))).toBe('FRAME_SHAPE')
    const badUtf8Sender = frameOfPacked(msgpackEncode([0, new Uint8Array([0xff, 0xfe]), 1, 0]))
    expect(codeOf(() => decodeFrame(badUtf8Sender))).toBe('FRAME_SHAPE')
  })

  it('malformed msgpack and refused keys', () => {
    expect(codeOf(() => decodeFrame(frameOfPacked(new Uint8Array([0x94, 0x00, 0xc1]))))).toBe('FRAME_MSGPACK')
    expect(codeOf(() => decodeFrame(frameOfPacked(new Uint8Array([0x93, 0x00, 0xa1, 0x31, 0x01, 0x00]))))).toBe('FRAME_MSGPACK') // trailing byte
    const proto = new Uint8Array([0x94, 0x00, 0xa1, 0x31, 0x01, 0x81, 0xa9, ...utf8('__proto__'), 0x01])
    expect(codeOf(() => decodeFrame(frameOfPacked(proto)))).toBe('FRAME_MSGPACK')
  })
})

describe('encodeFrame refuses what the wire cannot carry', () => {
  const bad: [string, unknown][] = [
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a Date', new Date()],
    ['a Map', new Map()],
    ['a class instance', new (class Thing {})()],
    ['an Int16Array', new Int16Array(2)],
    ['a bigint over 64 bits', 1n << 64n],
    ['a __proto__ key', JSON.parse('{"__proto__": 1}')],
  ]
  for (const [name, value] of bad) {
    it(name, () => {
      expect(codeOf(() => encodeFrame({ type: 0, sender: SENDER, time: 1, payload: [0, { x: [value] }] }))).toBe('INVALID_PAYLOAD')
    })
  }

  it('bad header fields', () => {
    expect(codeOf(() => encodeFrame({ type: -1, sender: SENDER, time: 1, payload: [] }))).toBe('FRAME_SHAPE')
    expect(codeOf(() => encodeFrame({ type: 0, sender: 'not an id!', time: 1, payload: [] }))).toBe('FRAME_SHAPE')
    expect(codeOf(() => encodeFrame({ type: 0, sender: SENDER, time: 1.25, payload: [] }))).toBe('FRAME_SHAPE')
    expect(codeOf(() => encodeFrame({ type: 0, sender: SENDER, time: 1, payload: 'x' as unknown as unknown[] }))).toBe('INVALID_PAYLOAD')
    expect(codeOf(() => encodeFrame({ type: 0, sender: SENDER, time: 1, payload: [] }, { compression: COMPRESSION.bz2 }))).toBe(
      'UNKNOWN_COMPRESSION',
    )
  })
})

describe('frames with an asynchronous digest', () => {
  const msg = { type: 0x01, sender: 'abc', time: 1_700_000_000, payload: [0x01, new Uint8Array(70 * 1024).fill(7)] }
  const slowDigest: Digest = (data) => new Promise((resolve) => setTimeout(() => resolve(sha256(data)), 0))

  it('decodeFrameWith gives what decodeFrame gives, later', async () => {
    const frame = encodeFrame(msg)
    const later = decodeFrameWith(frame, {}, slowDigest)
    expect(later).toBeInstanceOf(Promise)
    expect(await later).toEqual(decodeFrame(frame))
  })

  it('rejects a bad checksum with FRAME_CHECKSUM', async () => {
    const frame = encodeFrame(msg)
    frame[LEN_BYTES + 40]! ^= 1
    await expect(decodeFrameWith(frame, {}, slowDigest)).rejects.toMatchObject({ code: 'FRAME_CHECKSUM' })
  })

  it('webDigest (WebCrypto for large bodies) agrees with the synchronous digest', async () => {
    const large = new Uint8Array(ASYNC_DIGEST_BYTES + 1).map((_, i) => i * 31)
    const small = large.subarray(0, 100)
    expect(await webDigest(large)).toEqual(syncDigest(large))
    expect(isPromise(webDigest(small))).toBe(false)
    expect(webDigest(small)).toEqual(syncDigest(small))
  })

  it('bodyOf with an async digest builds the same body as encodeBody', async () => {
    const body = await bodyOf(packFrame(msg), slowDigest)
    expect(body).toEqual(encodeBody(msg))
  })
})

describe('frames built in place', () => {
  const msg = { type: 0x00, sender: 'abc', time: 1_700_000_000, payload: [0x00, 'hello'] }

  it('frameBody writes LEN in front of a body from bodyOf instead of copying it', () => {
    const body = encodeBody(msg)
    const frame = frameBody(body)
    expect(frame.buffer).toBe(body.buffer)
    expect(frame.byteOffset).toBe(body.byteOffset - LEN_BYTES)
    expect(frame).toEqual(frameBody(body.slice())) // the same bytes as a copied frame
  })

  it('a raw body cut out of a received frame re-frames to the very same bytes (relays)', () => {
    const received = encodeFrame(msg).slice()
    const { body } = decodeFrame(received)
    const again = frameBody(body)
    expect(again.buffer).toBe(received.buffer)
    expect(again).toEqual(received)
  })

  it('a body the caller made is copied, never written into', () => {
    const body = encodeBody(msg).slice()
    const before = new Uint8Array(body.buffer.slice(0))
    const frame = frameBody(body)
    expect(frame.buffer).not.toBe(body.buffer)
    expect(new Uint8Array(body.buffer)).toEqual(before)
  })
})

describe('the value count is the same bound on both ends', () => {
  it('a payload of maxItems - 3 values round-trips, one more is refused before sending', () => {
    const maxItems = 50
    const fits = { type: 0x00, sender: 'abc', time: 1, payload: Array.from({ length: maxItems - 3 }, (_, i) => i) }
    expect(decodeFrame(encodeFrame(fits, { maxItems }), { maxItems }).payload).toEqual(fits.payload)
    const over = { ...fits, payload: [...fits.payload, 0] }
    expect(thrownCode(() => encodeFrame(over, { maxItems }))).toBe('INVALID_PAYLOAD')
    // …which a receiver would have refused: the 3 header values count there.
    const forced = encodeFrame(over, { maxItems: maxItems + 1 })
    expect(thrownCode(() => decodeFrame(forced, { maxItems }))).toBe('FRAME_TOO_MANY_ITEMS')
  })
})
