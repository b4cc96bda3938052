import { decode } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { WireError } from '../errors.js'
import { wireCorpus } from '../testing/fuzz-corpus.js'
import { signedCorpus } from '../testing/fuzz-signed.js'
import { codecStreamTarget, codecTarget, frameTarget, signedFrameTarget } from '../testing/fuzz-targets.js'
import { fuzzInput, isNamedError, runFuzz, type FuzzReport, type FuzzTarget } from '../testing/fuzz.js'
import { ID_BYTES, LEN_BYTES } from './frame.js'

// CI-sized fuzzing of the frame decoder (src/testing/fuzz.ts; the long run is `npm run fuzz`).
// FUZZ_SEED=… runs another seed; a failure names the seed and index to replay.
const SEED = Number(process.env.FUZZ_SEED ?? 0x0f0f_2024)
const corpus = wireCorpus()

const verdict = (r: FuzzReport) => ({ crashes: r.crashFindings, hangs: r.hangFindings, rejections: r.rejectionSamples })
const clean = { crashes: [], hangs: [], rejections: [] }

/** Codes the input mix must reach: validation past the checksum, not just the cheap early exits. */
const DEEP = ['ok', 'FRAME_MSGPACK', 'FRAME_SHAPE', 'FRAME_TOO_DEEP', 'FRAME_TOO_MANY_ITEMS', 'FRAME_UNSUPPORTED_TYPE']
const SHALLOW = ['FRAME_TRUNCATED', 'FRAME_LENGTH_MISMATCH', 'FRAME_TOO_LARGE', 'FRAME_CHECKSUM']

describe('fuzz: frame decoder', () => {
  it('decodeFrame, nothing negotiated: 9 000 inputs, only named errors, no hangs', async () => {
    const report = await runFuzz(frameTarget, corpus, { seed: SEED, count: 9_000 })
    expect(verdict(report)).toEqual(clean)
    expect(report.inputs).toBe(9_000)
    for (const code of [...SHALLOW, ...DEEP]) expect(report.outcomes.get(code) ?? 0, code).toBeGreaterThan(0)
  }, 60_000)

  it('FrameCodec with zlib and gzip negotiated: 8 000 inputs, only named errors, no hangs', async () => {
    const report = await runFuzz(codecTarget(), corpus, { seed: SEED + 1, count: 8_000 })
    expect(verdict(report)).toEqual(clean)
    for (const code of [...SHALLOW, ...DEEP]) expect(report.outcomes.get(code) ?? 0, code).toBeGreaterThan(0)
  }, 60_000)

  it('FrameCodec with tight bounds (2 KiB, 48 values, depth 3): 4 000 inputs, only named errors', async () => {
    const report = await runFuzz(codecTarget(true), corpus, { seed: SEED + 3, count: 4_000 })
    expect(verdict(report)).toEqual(clean)
    for (const code of ['ok', 'FRAME_TOO_LARGE', 'FRAME_TOO_MANY_ITEMS', 'FRAME_TOO_DEEP']) expect(report.outcomes.get(code) ?? 0, code).toBeGreaterThan(0)
  }, 60_000)

  it('a deflate stream in mid-flow fed hostile pieces: 4 000 inputs, only named errors, no hangs', async () => {
    const report = await runFuzz(codecStreamTarget(), corpus, { seed: SEED + 5, count: 4_000 })
    expect(verdict(report)).toEqual(clean)
    // Mostly bytes that are no deflate at all; some inflate, into frames refused further on (or whole).
    for (const code of ['STREAM_BROKEN', 'FRAME_CHECKSUM']) expect(report.outcomes.get(code) ?? 0, code).toBeGreaterThan(0)
  }, 60_000)

  it('the signed variant, then key and signature checks: 5 000 inputs, only named errors, every K outcome reached', async () => {
    const report = await runFuzz(signedFrameTarget(), signedCorpus(), { seed: SEED + 4, count: 5_000 })
    expect(verdict(report)).toEqual(clean)
    expect(report.kinds.get('auth') ?? 0).toBeGreaterThan(400)
    // Past the K byte and the authentication block into every check, and refused at each of them.
    const outcomes = ['ok:link', 'ok:signed', 'ok:bad-signature', 'ok:not-the-sender-key', 'FRAME_AUTH', 'FRAME_TRUNCATED', 'FRAME_CHECKSUM', 'FRAME_MSGPACK', 'FRAME_SHAPE']
    for (const code of outcomes) expect(report.outcomes.get(code) ?? 0, code).toBeGreaterThan(0)
  }, 60_000)

  it('the harness catches a planted crash and a planted hang, and the input replays from (seed, index)', async () => {
    // A decoder that checks the frame but lets msgpack's own errors escape unnamed.
    const leaky: FuzzTarget = {
      name: 'leaky',
      run(bytes) {
        if (bytes.length > LEN_BYTES + ID_BYTES) decode(bytes.subarray(LEN_BYTES + ID_BYTES))
      },
    }
    const report = await runFuzz(leaky, corpus, { seed: SEED, count: 500 })
    expect(report.crashes).toBeGreaterThan(0)
    const first = report.crashFindings[0]!
    expect(first).toMatchObject({ target: 'leaky', seed: SEED })
    let replayed: unknown
    try {
      leaky.run(fuzzInput(corpus, first.seed, first.index).bytes)
    } catch (err: unknown) {
      replayed = err
    }
    expect(replayed).toBeDefined()
    expect(isNamedError(replayed)).toBe(false)

    // Non-Error throws and named classes with an unknown code are crashes too; named errors are not.
    let calls = 0
    const odd: FuzzTarget = {
      name: 'odd',
      run() {
        calls++
        if (calls === 1) throw 'a string'
        if (calls === 2) throw new WireError('NOT_A_CODE' as never, 'bogus')
        if (calls === 3) throw new WireError('FRAME_SHAPE', 'fine')
        if (calls === 4) {
          const start = process.cpuUsage()
          const cpuMs = () => {
            const used = process.cpuUsage(start)
            return (used.user + used.system) / 1000
          }
          while (cpuMs() < 30); // a slow input: 30 ms of CPU, however busy the machine is
        }
      },
    }
    const oddReport = await runFuzz(odd, corpus, { seed: SEED, count: 6, from: 100, hangMs: 20 })
    expect(oddReport.crashFindings.map((f) => f.index)).toEqual([100, 101])
    expect(oddReport.outcomes.get('FRAME_SHAPE')).toBe(1)
    expect(oddReport.hangFindings.map((f) => f.index)).toEqual([103])
    expect(oddReport.slowest?.index).toBe(103)
  })

  it('inputs are a pure function of (seed, index)', () => {
    const signed = signedCorpus()
    for (const index of [0, 1, 977, 12_345]) {
      expect(fuzzInput(corpus, SEED, index)).toEqual(fuzzInput(wireCorpus(), SEED, index))
      expect(fuzzInput(signed, SEED, index)).toEqual(fuzzInput(signedCorpus(), SEED, index))
    }
    expect(fuzzInput(corpus, SEED, 1).bytes).not.toEqual(fuzzInput(corpus, SEED + 1, 1).bytes)
  })
})
