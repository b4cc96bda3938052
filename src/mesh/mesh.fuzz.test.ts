import { afterEach, describe, expect, it } from 'vitest'
import { wireCorpus } from '../testing/fuzz-corpus.js'
import { meshNodeHarness, type MeshFuzzHarness } from '../testing/fuzz-mesh.js'
import { meshMessageTarget } from '../testing/fuzz-targets.js'
import { runFuzz, type FuzzReport } from '../testing/fuzz.js'

// CI-sized fuzzing of the mesh's message decoder and of a live MeshSocket's link handlers
// (src/testing/fuzz.ts, fuzz-mesh.ts; the long run is `npm run fuzz`). FUZZ_SEED=… runs another seed.
const SEED = Number(process.env.FUZZ_SEED ?? 0x0f0f_2024)

const verdict = (r: FuzzReport) => ({ crashes: r.crashFindings, hangs: r.hangFindings, rejections: r.rejectionSamples })
const clean = { crashes: [], hangs: [], rejections: [] }

let harness: MeshFuzzHarness | undefined
afterEach(async () => {
  await harness?.close()
  harness = undefined
})

describe('fuzz: mesh', () => {
  it('decodeMeshMessage on decoded frames: 12 000 inputs, only named errors, every kind reached', async () => {
    const report = await runFuzz(meshMessageTarget, wireCorpus(), { seed: SEED + 2, count: 12_000 })
    expect(verdict(report)).toEqual(clean)
    const kinds = ['handshake', 'peers', 'peers-request', 'ping', 'pong', 'broadcast', 'whisper', 'routed-whisper', 'routed-signal']
    for (const kind of kinds) expect(report.outcomes.get(`ok:${kind}`) ?? 0, kind).toBeGreaterThan(0)
    expect(report.outcomes.get('FRAME_SHAPE') ?? 0).toBeGreaterThan(0)
  }, 60_000)

  it('a live MeshSocket fed 16 000 hostile inputs stays up, reports only named errors, still relays', async () => {
    harness = await meshNodeHarness(SEED)
    const report = await runFuzz(harness.target, harness.corpus, { seed: SEED, count: 16_000, checkEvery: 2_000 })
    expect(verdict(report)).toEqual(clean)
    // Deep enough: frames were delivered, refused at every stage, and the bad-frame policy closed
    // the hostile link (it came back each time) — and the honest checkpoints all passed above.
    for (const outcome of ['delivered', 'BAD_FRAME/FRAME_CHECKSUM', 'BAD_FRAME/FRAME_MSGPACK', 'BAD_FRAME/FRAME_SHAPE', 'BAD_FRAME/FRAME_TOO_LARGE']) {
      expect(report.outcomes.get(outcome) ?? 0, outcome).toBeGreaterThan(0)
    }
    expect(harness.connections).toBeGreaterThan(100)
  }, 60_000)

  it('self-check: a listener that throws on delivery is a crash', async () => {
    harness = await meshNodeHarness(SEED)
    harness.socket.on('message', () => {
      throw new TypeError('planted')
    })
    const report = await runFuzz(harness.target, harness.corpus, { seed: SEED, count: 400, checkEvery: 400 })
    expect(report.crashes).toBeGreaterThan(0)
    expect(report.crashFindings[0]!.error).toMatch(/console\.error.*planted/)
  }, 60_000)

  it('self-check: a checkpoint fails when an honest neighbour can no longer be reached', async () => {
    harness = await meshNodeHarness(SEED)
    harness.network.kill(harness.neighbours[1])
    const report = await runFuzz(harness.target, harness.corpus, { seed: SEED, count: 100, checkEvery: 100 })
    expect(report.crashFindings).toMatchObject([{ kind: 'checkpoint', index: 99, error: expect.stringMatching(/honest/) }])
  }, 60_000)
})
