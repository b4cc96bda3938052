import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MeshError } from '../errors.js'
import { fromHex, toHex } from '../util/bytes.js'
import { Prng } from '../testing/prng.js'
import { END_BOUND, RBSR_VERSION, decodeRbsrMessage, encodeRbsrMessage, type RbsrBound, type RbsrRange } from './rbsr-codec.js'
import { RbsrDecodeError, RbsrSession, RbsrStore, type RbsrOptions } from './rbsr.js'

// The validating decoder: bytes from a peer are hostile. Every failure is an RbsrDecodeError
// (code RBSR_MALFORMED), found in time linear in the message, before anything is allocated for it.

const FRAME = 16_384

/** The code of what `fn` throws: an RbsrDecodeError's code, 'no error', or the error rethrown. */
function code(fn: () => unknown): string {
  try {
    fn()
  } catch (err: unknown) {
    if (err instanceof RbsrDecodeError) return err.code
    throw err
  }
  return 'no error'
}
const decode = (hex: string): (() => unknown) => () => decodeRbsrMessage(fromHex(hex), FRAME)
const bound = (time: number, prefix: number[] = []): RbsrBound => ({ time, prefix: Uint8Array.from(prefix) })
const id = (b: number): Uint8Array => new Uint8Array(16).fill(b)
/** A list id (8 bytes), as id lists and diffs carry. */
const lid = (b: number): Uint8Array => new Uint8Array(8).fill(b)

describe('rbsr message codec', () => {
  it('round-trips bounds with times of any size up to 2^53 - 1 (varints beyond 32 bits), delta-encoded', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.maxSafeNat(), { minLength: 1, maxLength: 30 }), fc.uint8Array({ maxLength: 16 }), (times, prefix) => {
        const ranges: RbsrRange[] = times.sort((a, b) => a - b).map((t) => ({ upper: bound(t, [...prefix, 1]), mode: 'skip' }))
        const back = decodeRbsrMessage(encodeRbsrMessage(ranges), FRAME)
        expect(back.map((r) => [r.upper.time, toHex(r.upper.prefix)])).toEqual(ranges.map((r) => [r.upper.time, toHex(r.upper.prefix)]))
      }),
    )
    // 2^32 + 5 as a varint: 1 + (2^32 + 5) = 0x100000006 → digits 16 0 0 0 6, most significant first.
    expect(toHex(encodeRbsrMessage([{ upper: bound(2 ** 32 + 5), mode: 'skip' }]))).toBe('029080808006' + '00' + '00')
    expect(decodeRbsrMessage(encodeRbsrMessage([{ upper: bound(Number.MAX_SAFE_INTEGER), mode: 'skip' }]), FRAME)[0]!.upper.time).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('round-trips every mode', () => {
    const ranges: RbsrRange[] = [
      { upper: bound(5), mode: 'fingerprint', fingerprint: id(7) },
      { upper: bound(5, [3]), mode: 'idList', ids: [lid(1), lid(2)] },
      { upper: bound(9), mode: 'diff', bits: 2, lacking: Uint8Array.of(2), ids: [lid(3)] },
      { upper: bound(10), mode: 'diffCount', bits: 9, lacking: Uint8Array.of(0xff, 1), count: 2 ** 40 },
      { upper: END_BOUND, mode: 'skip' },
    ]
    const bytes = encodeRbsrMessage(ranges)
    expect(encodeRbsrMessage(decodeRbsrMessage(bytes, FRAME))).toEqual(bytes)
  })

  it('refuses malformed messages with RBSR_MALFORMED', () => {
    const cases: [string, string][] = [
      ['empty', ''],
      ['unknown version', '61' + '0000' + '00'],
      ['version 1 (whole ids in lists)', '01' + '0000' + '00'],
      ['truncated varint', '02' + '85'],
      ['varint with a leading zero digit', '02' + '8001' + '00' + '00'],
      ['varint above 2^53 (time code)', '02' + 'ffffffffffffffff7f' + '00' + '00'],
      ['2^53 + 1 as a time code', '02' + '9080808080808001' + '00' + '00'],
      ['times summing above 2^53 - 1', '02' + '8f80808080808000' + '00' + '00' + '8f80808080808000' + '00' + '00'],
      ['prefix longer than 16 bytes', '02' + '02' + '11' + '00'.repeat(17) + '00'],
      ['end bound with a prefix', '02' + '00' + '01' + 'aa' + '00'],
      ['a range after the end bound', '02' + '0000' + '00' + '0000' + '00'],
      ['bounds out of order', '02' + '05' + '01' + '05' + '00' + '01' + '00' + '00'],
      ['an empty first range (bound 0)', '02' + '01' + '00' + '00'],
      ['equal bounds (trailing zero prefix)', '02' + '05' + '00' + '00' + '01' + '01' + '00' + '00'],
      ['unknown mode', '02' + '0000' + '05'],
      ['mode as a huge varint', '02' + '0000' + 'ffffffffffffffff7f'],
      ['truncated fingerprint', '02' + '0000' + '01' + 'aa'.repeat(15)],
      ['id count beyond the message', '02' + '0000' + '02' + '02' + 'aa'.repeat(15)],
      ['id count 2^53', '02' + '0000' + '02' + '9080808080808000'],
      ['diff bitmap beyond the message', '02' + '0000' + '03' + '81' + '00' + 'ff'],
      ['diff bits 2^40', '02' + '0000' + '04' + 'a08080808000' + '00'],
      ['diff padding bits set', '02' + '0000' + '04' + '03' + '08' + '00'],
      ['diff id count beyond the message', '02' + '0000' + '03' + '00' + '01'],
      ['diffCount missing its count', '02' + '0000' + '04' + '00'],
    ]
    for (const [what, hex] of cases) expect(code(decode(hex)), what).toBe('RBSR_MALFORMED')
    expect(code(() => decodeRbsrMessage(new Uint8Array(FRAME + 1).fill(RBSR_VERSION), FRAME))).toBe('RBSR_MALFORMED')
    // Sanity: the valid neighbours of some of these decode.
    expect(code(decode('02' + '9080808080808000' + '00' + '00'))).toBe('no error') // time 2^53 - 1
    expect(code(decode('02' + '0000' + '04' + '03' + '07' + '00'))).toBe('no error')
    expect(code(decode('02'))).toBe('no error')
  })

  it('every truncation of a valid message is refused or is a valid shorter message; never another error', () => {
    const bytes = encodeRbsrMessage([
      { upper: bound(1_700_000_000_000, [9, 9]), mode: 'fingerprint', fingerprint: id(7) },
      { upper: bound(1_700_000_000_999), mode: 'idList', ids: [lid(1), lid(2)] },
      { upper: END_BOUND, mode: 'diff', bits: 3, lacking: Uint8Array.of(5), ids: [lid(3)] },
    ])
    const outcomes = new Set<string>()
    for (let n = 0; n < bytes.length; n++) outcomes.add(code(() => decodeRbsrMessage(bytes.subarray(0, n), FRAME)))
    expect([...outcomes].sort()).toEqual(['RBSR_MALFORMED', 'no error'])
    // Cut inside a field, it is always refused.
    expect(bytes.length).toBe(62)
    for (const n of [3, 10, 20, 28, 40, 45, 58, bytes.length - 1]) expect(code(() => decodeRbsrMessage(bytes.subarray(0, n), FRAME)), `at ${n}`).toBe('RBSR_MALFORMED')
  })

  it('garbage: refused or decoded, quickly, never another error; a session is unchanged by a refused message', () => {
    const rng = new Prng(1)
    const items = Array.from({ length: 2_000 }, () => ({ time: 1_700_000_000_000 + rng.int(1e6), id: rng.bytes(16) }))
    const store = new RbsrStore(items)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_000 }), fc.boolean(), (body, versioned) => {
        const msg = versioned ? Uint8Array.of(RBSR_VERSION, ...body) : body
        const session = new RbsrSession(store, 'responder')
        const result = code(() => session.receive(msg))
        expect(['RBSR_MALFORMED', 'no error']).toContain(result)
      }),
      { numRuns: 300 },
    )
    const huge = new Uint8Array(FRAME).fill(0xff)
    huge[0] = RBSR_VERSION
    // A hang would show as CPU time (judged on CPU, not wall time, so a busy machine cannot fail it).
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < 100; i++) expect(code(() => new RbsrSession(store, 'responder').receive(huge))).toBe('RBSR_MALFORMED')
    const cpu = process.cpuUsage(cpu0)
    expect((cpu.user + cpu.system) / 1_000).toBeLessThan(1_000)
    // A refused message leaves the session as it was: the real one still reconciles.
    const initiator = new RbsrSession(new RbsrStore(items.slice(1)), 'initiator')
    const responder = new RbsrSession(store, 'responder')
    expect(code(() => responder.receive(fromHex('02' + '0000' + '02' + '02')))).toBe('RBSR_MALFORMED')
    let msg: Uint8Array | undefined = initiator.initiate()
    for (let turn = 0; msg !== undefined; turn++) msg = (turn % 2 === 0 ? responder : initiator).receive(msg)
    expect(responder.have.map(toHex)).toEqual([toHex(items[0]!.id)])
  })

  it('refuses a diff that does not match the ids this side listed, and any message after the end', () => {
    const store = new RbsrStore([{ time: 5, id: id(1) }])
    const session = new RbsrSession(store, 'initiator')
    session.initiate() // an id list of 1
    const wrongBits = encodeRbsrMessage([{ upper: END_BOUND, mode: 'diffCount', bits: 2, lacking: Uint8Array.of(0), count: 0 }])
    expect(code(() => session.receive(wrongBits))).toBe('RBSR_MALFORMED')
    const right = encodeRbsrMessage([{ upper: END_BOUND, mode: 'diffCount', bits: 1, lacking: Uint8Array.of(1), count: 3 }])
    expect(session.receive(right)).toBeUndefined()
    expect(session.done).toBe(true)
    expect([session.have.length, session.need.length, session.needUnlisted]).toEqual([1, 0, 3])
    expect(code(() => session.receive(right))).toBe('RBSR_MALFORMED')
  })

  it('refuses bad options and misuse with INVALID_ARGUMENT', () => {
    const store = new RbsrStore()
    const bad: RbsrOptions[] = [{ frameBytes: 100 }, { frameBytes: 1500.5 }, { buckets: 1 }, { buckets: 2000 }, { idListThreshold: 0 }, { idListThreshold: 3000 }]
    for (const options of bad) expect(() => new RbsrSession(store, 'initiator', options), JSON.stringify(options)).toThrow(MeshError)
    // A small frame alone lowers the default id-list threshold to what fits.
    expect(new RbsrSession(store, 'initiator', { frameBytes: 256 }).initiate().length).toBe(5)
    expect(() => new RbsrSession(store, 'responder').initiate()).toThrow(MeshError)
    expect(() => new RbsrSession(store, 'initiator').receive(fromHex('02'))).toThrow(MeshError)
    expect(() => store.insert({ time: -1, id: id(0) })).toThrow(MeshError)
    expect(() => store.insert({ time: 2 ** 53, id: id(0) })).toThrow(MeshError)
    expect(() => store.insert({ time: 0, id: new Uint8Array(15) })).toThrow(MeshError)
  })
})
