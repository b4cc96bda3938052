import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TransportError } from '../../errors.js'
import { thrownCode } from '../../testing/thrown-code.js'
import { CHUNK_KIND, Reassembler, START_HEADER_BYTES, chunkCount, chunkMessage } from './chunking.js'

const codeOf = (fn: () => unknown): string => thrownCode(fn, TransportError)

describe('chunking', () => {
  it('round-trips any message at any chunk size, every chunk within the size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 8, max: 600 }), (data, size) => {
        const chunks = [...chunkMessage(data, size)]
        expect(chunks).toHaveLength(chunkCount(data.length, size))
        for (const c of chunks) expect(c.length).toBeLessThanOrEqual(size)
        const r = new Reassembler(10_000)
        const out = chunks.map((c) => r.push(c))
        expect(out.slice(0, -1).every((m) => m === undefined)).toBe(true)
        expect(out.at(-1)).toEqual(data)
        expect(r.pendingBytes).toBe(0)
      }),
    )
  })

  it('whole chunks may arrive between the pieces of a large message', () => {
    const big = new Uint8Array(1000).map((_, i) => i % 251)
    const [first, ...rest] = [...chunkMessage(big, 100)]
    const [small] = [...chunkMessage(new Uint8Array([7]), 100)]
    const r = new Reassembler(2000)
    expect(r.push(first!)).toBeUndefined()
    expect(r.push(small!)).toEqual(new Uint8Array([7]))
    expect(r.pendingBytes).toBe(100 - START_HEADER_BYTES) // what arrived, not the announced 1000
    let done: Uint8Array | undefined
    for (const c of rest) done = r.push(c)
    expect(done).toEqual(big)
  })

  it('hostile chunk streams are named errors, never allocations past the cap', () => {
    const r = () => new Reassembler(1000)
    const start = (total: number, body = 1): Uint8Array => {
      const c = new Uint8Array(START_HEADER_BYTES + body)
      c[0] = CHUNK_KIND.start
      new DataView(c.buffer).setUint32(1, total)
      return c
    }
    expect(codeOf(() => r().push(new Uint8Array(0)))).toBe('INVALID_MESSAGE')
    expect(codeOf(() => r().push(new Uint8Array([9, 1, 2])))).toBe('INVALID_MESSAGE')
    expect(codeOf(() => r().push(new Uint8Array([CHUNK_KIND.more, 1])))).toBe('INVALID_MESSAGE')
    expect(codeOf(() => r().push(new Uint8Array([CHUNK_KIND.start, 0, 0])))).toBe('INVALID_MESSAGE')
    expect(codeOf(() => r().push(start(0xffff_ffff)))).toBe('MESSAGE_TOO_LARGE') // a 4 GiB announcement
    expect(codeOf(() => r().push(new Uint8Array(1002)))).toBe('MESSAGE_TOO_LARGE') // WHOLE over the cap
    expect(codeOf(() => r().push(start(3, 3)))).toBe('INVALID_MESSAGE') // START holding everything
    const twice = r()
    twice.push(start(10))
    expect(codeOf(() => twice.push(start(10)))).toBe('INVALID_MESSAGE')
    const overrun = r()
    overrun.push(start(4))
    expect(codeOf(() => overrun.push(new Uint8Array([CHUNK_KIND.more, 1, 2, 3, 4])))).toBe('INVALID_MESSAGE')
  })

  it('random chunk streams never throw anything but TransportError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 30 }), (chunks) => {
        const r = new Reassembler(64)
        for (const c of chunks) {
          try {
            r.push(c)
          } catch (err: unknown) {
            expect(err).toBeInstanceOf(TransportError)
            return
          }
        }
      }),
      { numRuns: 2000 },
    )
  })
})
