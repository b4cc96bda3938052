import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { frameMessage } from '../testing/arbitraries.js'
import { codecPair } from '../testing/codec-pair.js'
import { COMPRESSION, DEFAULT_COMPRESSIONS, SUPPORTED_COMPRESSIONS, decodeFrame, encodeBody, type FrameMessage } from './index.js'
import { STREAM_BACKOFF_BYTES } from './codec.js'
import { InflateLane, LANE_BITS, STREAM_MAX_BODY_BYTES } from './stream.js'

const SENDER = '6VnYj9LjoVLTvU3uPhy4nxm6yv2wEvhaRtGHeV9wwFngWGGqKAzuZ8jK6gFuvq737V'
const msg = (...payload: unknown[]): FrameMessage => ({ type: 0x02, sender: SENDER, time: 1_500_000_000, payload: [0x14, ...payload] })
const laneOf = (frame: Uint8Array): number | undefined => (frame[0]! & 0x80 ? 0 : frame[0]! & 0x40 ? 1 : undefined)

const pair = codecPair

describe('deflate stream: negotiation', () => {
  it('is ours by default and used only when both ends list it; 0.7 nodes (zlib, gzip) get per-frame zlib', () => {
    expect(DEFAULT_COMPRESSIONS).toEqual([COMPRESSION.deflateStream, COMPRESSION.zlib, COMPRESSION.gzip])
    expect(pair()[0].sendMethod).toBe(COMPRESSION.deflateStream)
    const [ours, old] = pair(DEFAULT_COMPRESSIONS, SUPPORTED_COMPRESSIONS)
    expect([ours.sendMethod, old.sendMethod]).toEqual([COMPRESSION.zlib, COMPRESSION.zlib])
    const body = 'a 0.7 peer reads every frame we send it '.repeat(30)
    const frame = ours.encode(msg(body))
    expect(laneOf(frame)).toBeUndefined()
    // How a 0.7 receiver reads it: the negotiated methods, then raw.
    expect(decodeFrame(frame, { compressions: [COMPRESSION.zlib, COMPRESSION.gzip] }).payload[1]).toBe(body)
    expect(old.decode(ours.encode(msg('small'))).payload[1]).toBe('small')
  })
})

describe('deflate stream: frames', () => {
  it('small frames shrink once the lane has history, and never go raw', () => {
    const [a, b] = pair()
    const sizes: number[] = []
    for (let i = 0; i < 5; i++) {
      const frame = a.encode(msg(i, 'key-000' + i, 'value of the key'))
      expect(laneOf(frame)).toBe(0)
      expect(b.decode(frame).payload).toEqual([0x14, i, 'key-000' + i, 'value of the key'])
      sizes.push(frame.length)
    }
    const raw = encodeBody(msg(4, 'key-0004', 'value of the key')).length + 4
    // The sender id, flags and the 32-byte id: the id alone does not compress.
    expect(sizes[4]).toBeLessThan(sizes[0]!)
    expect(sizes[4]).toBeLessThan(raw / 2)
  })

  it('any messages on the two lanes, delivered with urgent ones overtaking, decode as sent', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(frameMessage, fc.boolean()), { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 12 }), (sent, picks) => {
        const [a, b] = pair()
        const lanes: [Array<[Uint8Array, unknown[]]>, Array<[Uint8Array, unknown[]]>] = [[], []]
        for (const [m, urgent] of sent) {
          const f = a.frame(encodeBody(m), undefined, urgent)
          lanes[urgent ? 1 : 0].push([f, m.payload])
        }
        // Any interleaving that keeps each lane's order (what the channel may do).
        let pick = 0
        while (lanes[0].length + lanes[1].length > 0) {
          const lane = lanes[0].length === 0 ? 1 : lanes[1].length === 0 ? 0 : (picks[pick++] ?? 0) % 2
          const [frame, payload] = lanes[lane]!.shift()!
          expect(b.decode(frame).payload).toEqual(payload)
        }
      }),
      { numRuns: 200 },
    )
  })

  it(`bodies over ${STREAM_MAX_BODY_BYTES} bytes, and frames made for several links, go alone (per-frame zlib)`, () => {
    const [a, b] = pair()
    const big = 'large bodies leave the stream '.repeat(700)
    const frame = a.encode(msg(big))
    expect(laneOf(frame)).toBeUndefined()
    expect(frame.length).toBeLessThan(big.length / 4)
    expect(b.decode(frame).payload[1]).toBe(big)
    const shared = a.frame(encodeBody(msg('relayed '.repeat(100))), {})
    expect(laneOf(shared)).toBeUndefined()
    expect(shared.length).toBeLessThan(400) // zlib: 800 bytes of text and the header
    expect(b.decode(shared).payload[1]).toBe('relayed '.repeat(100))
  })

  it('incompressible bodies of 1 KiB and more back off per lane; small ones stay in the stream', () => {
    const [a, b] = pair()
    const noise = (): Uint8Array => crypto.getRandomValues(new Uint8Array(STREAM_BACKOFF_BYTES + 100))
    const lanes: Array<number | undefined> = []
    for (let i = 0; i < 4; i++) {
      const f = a.frame(encodeBody(msg(noise())), undefined, true)
      lanes.push(laneOf(f))
      b.decode(f)
    }
    // Tried on the first and second (after skipping one), skipped (raw) in between and after.
    expect(lanes).toEqual([1, undefined, 1, undefined])
    // A small body in the same lane, and a large compressible one in the other lane, still stream.
    expect(laneOf(a.frame(encodeBody(msg('small')), undefined, true))).toBe(1)
    const text = a.frame(encodeBody(msg('text '.repeat(400))), undefined, false)
    expect(laneOf(text)).toBe(0)
    expect(b.decode(text).payload[1]).toBe('text '.repeat(400))
  })
})

describe('deflate stream: hostile input', () => {
  it('bytes that do not continue the stream: STREAM_BROKEN, and the lane stays broken', () => {
    const [a, b] = pair()
    b.decode(a.encode(msg('first')))
    const bad = new Uint8Array([0x80, 0, 0, 4, 0xff, 0xff, 0xff, 0xff])
    expect(() => b.decode(bad)).toThrow(expect.objectContaining({ code: 'STREAM_BROKEN' }))
    expect(() => b.decode(a.encode(msg('second')))).toThrow(expect.objectContaining({ code: 'STREAM_BROKEN' }))
    // The other lane is a stream of its own.
    expect(b.decode(a.frame(encodeBody(msg('urgent')), undefined, true)).payload[1]).toBe('urgent')
  })

  it('a lost piece: what follows does not decode (a checksum or the stream fails), never a wrong message', () => {
    const [a, b] = pair()
    b.decode(a.encode(msg('one ' + 'x'.repeat(200))))
    a.encode(msg('two ' + 'x'.repeat(200))) // never delivered
    expect(() => b.decode(a.encode(msg('three ' + 'x'.repeat(200))))).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(STREAM_BROKEN|FRAME_CHECKSUM)$/) }))
  })

  it('a piece that inflates past maxFrameBytes: FRAME_TOO_LARGE as soon as it does', () => {
    const [a] = pair()
    const [, b] = pair(DEFAULT_COMPRESSIONS, DEFAULT_COMPRESSIONS, { maxFrameBytes: 4_096 })
    b.setRemoteCompressions(a.local)
    const frame = a.encode(msg(new Uint8Array(12_000)))
    expect(frame.length).toBeLessThan(200)
    expect(() => b.decode(frame)).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }))
    expect(() => new InflateLane().pull(frame.subarray(4), 4_096)).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }))
  })

  it('a wrong LEN: STREAM_BROKEN; both lane bits, or a codec that never offered the stream: LEN as 0.7 reads it (too large)', () => {
    const [a, b] = pair()
    const frame = a.encode(msg('x')).slice()
    frame[3] = frame[3]! + 1
    expect(() => b.decode(frame)).toThrow(expect.objectContaining({ code: 'STREAM_BROKEN' }))
    const both = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0])
    expect(() => pair()[1].decode(both)).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }))
    const [, old] = pair(DEFAULT_COMPRESSIONS, SUPPORTED_COMPRESSIONS)
    const lane0 = new Uint8Array([LANE_BITS[0] >>> 24, 0, 0, 1, 0])
    expect(() => old.decode(lane0)).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }))
  })
})
