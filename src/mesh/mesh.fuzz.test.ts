import { afterEach, describe, expect, it, vi } from 'vitest'
import { wireCorpus } from '../testing/fuzz-corpus.js'
import { meshNodeHarness, type MeshFuzzHarness } from '../testing/fuzz-mesh.js'
import { meshNodeSignedHarness } from '../testing/fuzz-mesh-signed.js'
import { meshMessageTarget } from '../testing/fuzz-targets.js'
import { runFuzz, type FuzzReport } from '../testing/fuzz.js'
import { SignatureVerifier } from '../wire/signed.js'

// CI-sized fuzzing of the mesh's message decoder and of a live MeshSocket's link handlers, in the
// 0.7 mode and the signed mode (src/testing/fuzz.ts, fuzz-mesh.ts, fuzz-mesh-signed.ts; the long
// run is `npm run fuzz`). FUZZ_SEED=… runs another seed.
const SEED = Number(process.env.FUZZ_SEED ?? 0x0f0f_2024)

const verdict = (r: FuzzReport) => ({ crashes: r.crashFindings, hangs: r.hangFindings, rejections: r.rejectionSamples })
const clean = { crashes: [], hangs: [], rejections: [] }

let harness: MeshFuzzHarness | undefined
afterEach(async () => {
  vi.restoreAllMocks()
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

  it('a live MeshSocket (0.7 mode) fed 13 000 hostile inputs stays up, reports only named errors, still relays', async () => {
    harness = await meshNodeHarness(SEED)
    const report = await runFuzz(harness.target, harness.corpus, { seed: SEED, count: 13_000, checkEvery: 2_000 })
    expect(verdict(report)).toEqual(clean)
    // Deep enough: frames were delivered, refused at every stage, and the bad-frame policy closed
    // the hostile link (it came back each time) — and the honest checkpoints all passed above.
    for (const outcome of ['delivered', 'BAD_FRAME/FRAME_CHECKSUM', 'BAD_FRAME/FRAME_MSGPACK', 'BAD_FRAME/FRAME_SHAPE', 'BAD_FRAME/FRAME_TOO_LARGE']) {
      expect(report.outcomes.get(outcome) ?? 0, outcome).toBeGreaterThan(0)
    }
    expect(harness.connections).toBeGreaterThan(100)
  }, 60_000)

  it('a live MeshSocket (signed mode) fed 3 000 inputs by a peer that shakes hands for real stays up, delivers no forgery, still relays', async () => {
    harness = await meshNodeSignedHarness(SEED + 5)
    const report = await runFuzz(harness.target, harness.corpus, { seed: SEED + 5, count: 3_000, checkEvery: 2_000 })
    expect(verdict(report)).toEqual(clean)
    expect(report.kinds.get('live') ?? 0).toBeGreaterThan(600)
    // Past the handshake and the proof of key (an input completed it: 'ready'), into every check
    // of a signed frame and refused at each, delivered when valid; the forgery oracle (any node
    // delivering in a name whose key the peer lacks) and the honest checkpoints held throughout.
    const outcomes = ['delivered', 'ready', 'duplicate', 'stale', 'FORGED', 'AUTH_FAILED', 'BAD_FRAME/FRAME_AUTH', 'BAD_FRAME/FRAME_CHECKSUM', 'BAD_FRAME/FRAME_MSGPACK', 'BAD_FRAME/FRAME_SHAPE']
    for (const outcome of outcomes) expect(report.outcomes.get(outcome) ?? 0, outcome).toBeGreaterThan(0)
    expect(harness.socket.stats.forged).toBeGreaterThan(100)
    expect(harness.connections).toBeGreaterThan(100)
  }, 60_000)

  it('self-check: a node that took any signature for valid delivers forgeries, and that is a crash', async () => {
    harness = await meshNodeSignedHarness(SEED + 5)
    vi.spyOn(SignatureVerifier.prototype, 'verify').mockReturnValue(true)
    vi.spyOn(SignatureVerifier.prototype, 'idMatches').mockReturnValue(true)
    const report = await runFuzz(harness.target, harness.corpus, { seed: SEED + 5, count: 300, checkEvery: 300 })
    expect(report.crashes).toBeGreaterThan(0)
    expect(report.crashFindings[0]!.error).toMatch(/forged delivery: .*(in the name of a node|must drop)/)
  }, 60_000)

  it('self-check: an honest neighbour delivering a message the harness did not send in its name is a crash', async () => {
    harness = await meshNodeSignedHarness(SEED)
    void harness.honest[0].socket.send('not the harness’s').catch(() => {})
    const report = await runFuzz(harness.target, harness.corpus, { seed: SEED, count: 1, checkEvery: 1 })
    expect(report.crashFindings[0]?.error).toMatch(/forged delivery: the node delivered a broadcast .*in the name of a node/)
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
