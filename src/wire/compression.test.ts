import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { frameMessage } from '../testing/arbitraries.js'
import { codecPair } from '../testing/codec-pair.js'
import {
  COMPRESSION,
  DEFAULT_MIN_COMPRESS_BYTES,
  FrameCodec,
  SUPPORTED_COMPRESSIONS,
  compress,
  decodeFrame,
  decompress,
  negotiateCompression,
  sanitizeCompressionList,
} from './index.js'
import { COMPRESS_SAMPLE_BYTES } from './codec.js'

const SENDER = '6VnYj9LjoVLTvU3uPhy4nxm6yv2wEvhaRtGHeV9wwFngWGGqKAzuZ8jK6gFuvq737V'
const text = (n: number): string => 'the quick brown fox jumps over the lazy dog '.repeat(Math.ceil(n / 44)).slice(0, n)

describe('negotiation', () => {
  it('the sender uses the first method of its own list that the peer also listed', () => {
    expect(negotiateCompression([COMPRESSION.zlib, COMPRESSION.gzip], [COMPRESSION.gzip, COMPRESSION.zlib])).toBe(COMPRESSION.zlib)
    expect(negotiateCompression([COMPRESSION.gzip, COMPRESSION.zlib], [COMPRESSION.zlib, COMPRESSION.gzip])).toBe(COMPRESSION.gzip)
    expect(negotiateCompression([COMPRESSION.zlib], [COMPRESSION.bz2, COMPRESSION.lzma])).toBeUndefined()
    expect(negotiateCompression([COMPRESSION.bz2, COMPRESSION.gzip], [COMPRESSION.bz2, COMPRESSION.gzip])).toBe(COMPRESSION.gzip)
    expect(negotiateCompression([], [COMPRESSION.zlib])).toBeUndefined()
  })

  it('a peer list is untrusted: unknown, repeated or non-numeric entries are dropped', () => {
    expect(sanitizeCompressionList([0x13, 0x13, 'x', 0x10, 0x11, null])).toEqual([0x13, 0x11])
    expect(sanitizeCompressionList('zlib')).toEqual([])
    expect(sanitizeCompressionList(new Array(1000).fill(0x11))).toEqual([0x11])
  })

  it('decompress returns undefined for bytes of another method and throws for unknown methods', () => {
    const data = new TextEncoder().encode(text(1000))
    expect(decompress(COMPRESSION.gzip, compress(COMPRESSION.zlib, data), 1 << 20)).toBeUndefined()
    expect(decompress(COMPRESSION.zlib, compress(COMPRESSION.gzip, data), 1 << 20)).toBeUndefined()
    expect(decompress(COMPRESSION.zlib, compress(COMPRESSION.zlib, data), 1 << 20)).toEqual(data)
    expect(() => decompress(COMPRESSION.lzma, data, 10)).toThrow(expect.objectContaining({ code: 'UNKNOWN_COMPRESSION' }))
  })
})

describe('FrameCodec: opportunistic compression per link', () => {
  const pair = codecPair

  it('sends raw before the handshake', () => {
    const codec = new FrameCodec()
    const frame = codec.encode({ type: 0, sender: SENDER, time: 1, payload: [0, text(5000)] })
    expect(codec.sendMethod).toBeUndefined()
    expect(decodeFrame(frame).payload[1]).toBe(text(5000))
  })

  it('compresses large compressible bodies with the negotiated method', () => {
    const [a, b] = pair([COMPRESSION.zlib, COMPRESSION.gzip], [COMPRESSION.gzip])
    expect(a.sendMethod).toBe(COMPRESSION.gzip)
    const frame = a.encode({ type: 0, sender: SENDER, time: 1, payload: [0, text(5000)] })
    expect(frame.length).toBeLessThan(1000)
    expect(b.decode(frame).payload[1]).toBe(text(5000))
    expect(a.stats.compressedOut).toBe(1)
    // A 0.7 receiver tries the negotiated method then raw: the frame is readable that way too.
    expect(decodeFrame(frame, { compressions: [COMPRESSION.gzip] }).payload[1]).toBe(text(5000))
  })

  it(`leaves bodies under ${DEFAULT_MIN_COMPRESS_BYTES} bytes, and incompressible ones, raw`, () => {
    const [a, b] = pair([COMPRESSION.zlib], [COMPRESSION.zlib])
    const small = a.encode({ type: 0, sender: SENDER, time: 1, payload: [0, text(100)] })
    const noise = crypto.getRandomValues(new Uint8Array(4000))
    const random = a.encode({ type: 0, sender: SENDER, time: 1, payload: [0, noise] })
    expect(a.stats.compressedOut).toBe(0)
    expect(decodeFrame(small).payload[1]).toBe(text(100)) // raw: readable with no method at all
    expect(b.decode(random).payload[1]).toEqual(noise)
    expect(a.stats).toMatchObject({ framesOut: 2, wireBytesOut: small.length + random.length })
    expect(b.stats).toMatchObject({ framesIn: 1, wireBytesIn: random.length })
  })

  it('backs off on incompressible data and resumes when compression pays again', () => {
    const [a, b] = pair([COMPRESSION.zlib], [COMPRESSION.zlib])
    const send = (payload: unknown): void => {
      expect(b.decode(a.encode({ type: 0, sender: SENDER, time: 1, payload: [0, payload] })).payload[1]).toEqual(payload)
    }
    // Tries on frames 1, 3, 6, 11 (skipping 1, 2, 4 after each miss), not on all 12.
    for (let i = 0; i < 12; i++) send(crypto.getRandomValues(new Uint8Array(4096)))
    expect(a.stats).toMatchObject({ compressAttempts: 4, compressedOut: 0 })
    // Compressible text after the backoff (7 skips pending): skipped frames go raw, then it pays.
    for (let i = 0; i < 8; i++) send(text(4096))
    expect(a.stats).toMatchObject({ compressAttempts: 5, compressedOut: 1 })
    send(text(4096))
    expect(a.stats).toMatchObject({ compressAttempts: 6, compressedOut: 2 })
  })

  it('judges a large body on a sample of its end: incompressible ones go raw without a full try', () => {
    const [a, b] = pair([COMPRESSION.zlib], [COMPRESSION.zlib])
    const big = 4 * COMPRESS_SAMPLE_BYTES + 1
    const randomBytes = (n: number): Uint8Array => {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(out.subarray(i, i + 65_536))
      return out
    }
    const noise = randomBytes(big)
    const frame = a.encode({ type: 0, sender: SENDER, time: 1, payload: [0, noise] })
    expect(a.stats).toMatchObject({ compressAttempts: 1, compressedOut: 0 })
    expect(frame.length).toBeGreaterThan(big) // raw, not a slightly smaller deflate stream
    expect(b.decode(frame).payload[1]).toEqual(noise)
    // Text followed by noise at the end: the sample decides, so the body goes raw.
    const mixed = new Uint8Array(big * 2)
    mixed.set(new TextEncoder().encode(text(big)))
    mixed.set(crypto.getRandomValues(new Uint8Array(COMPRESS_SAMPLE_BYTES)), mixed.length - COMPRESS_SAMPLE_BYTES)
    const [c, d] = pair([COMPRESSION.zlib], [COMPRESSION.zlib])
    expect(d.decode(c.encode({ type: 0, sender: SENDER, time: 1, payload: [0, mixed] })).payload[1]).toEqual(mixed)
    expect(c.stats.compressedOut).toBe(0)
    // A compressible large body is compressed whole.
    const [e, f] = pair([COMPRESSION.zlib], [COMPRESSION.zlib])
    const long = text(big)
    const packed = e.encode({ type: 0, sender: SENDER, time: 1, payload: [0, long] })
    expect(e.stats.compressedOut).toBe(1)
    expect(packed.length).toBeLessThan(big / 4)
    expect(f.decode(packed).payload[1]).toBe(long)
  })

  it('peers with no common method talk raw', () => {
    const [a, b] = pair([COMPRESSION.zlib], [COMPRESSION.gzip])
    expect(a.sendMethod).toBeUndefined()
    expect(b.decode(a.encode({ type: 0, sender: SENDER, time: 1, payload: [0, text(5000)] })).payload[1]).toBe(text(5000))
  })

  it('any message survives any pair of preference lists', () => {
    const list = fc.subarray([...SUPPORTED_COMPRESSIONS, COMPRESSION.bz2])
    fc.assert(
      fc.property(frameMessage, list, list, fc.nat({ max: 2000 }), (msg, la, lb, min) => {
        const a = new FrameCodec({ compressions: la, minCompressBytes: min })
        const b = new FrameCodec({ compressions: lb })
        a.setRemoteCompressions(b.local)
        b.setRemoteCompressions(a.local)
        expect(b.decode(a.encode(msg)).payload).toEqual(msg.payload)
      }),
      { numRuns: 300 },
    )
  })
})
