import { describe, expect, it } from 'vitest'
import { SimNetwork } from '../testing/sim-network.js'
import { simMeshNode } from '../testing/sim-mesh.js'
import { simSyncNode, type SimSyncNode } from '../testing/sim-sync.js'
import { SYNC_FLAGS as F } from './messages.js'
import { RbsrSession, RbsrStore } from './rbsr.js'
import { LEARNING_WAIT_MS } from './session.js'
import type { SyncOptions } from './sync-socket.js'

// What a heal costs (docs/protocol.md, "Anti-entropy"): a node learning from one peer answers
// another's reconciliation after, and the sessions of a heal carry the writes made apart, not
// the keys' older history. A failing seed replays: set SEED.
const SEED = Number(process.env.SEED ?? 20261207)
const START = 1_800_000_000_000

async function node(sim: SimNetwork, bootstrap: string[], options: SyncOptions = {}): Promise<SimSyncNode> {
  const n = await simSyncNode(sim, bootstrap, options)
  let up = false
  void n.table.ready().then(() => (up = true))
  expect(await sim.runUntil(() => up)).toBe(true)
  return n
}

const keys = (from: number, n: number, version: string): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${String(from + i).padStart(5, '0')}`, `value ${from + i} ${version}`]))
const holds = (n: SimSyncNode, want: Record<string, string>): boolean => Object.entries(want).every(([k, v]) => n.table.get(k) === v)

describe('a heal', () => {
  it('a node learning from one peer answers a second peer after: it receives the keys once, not from both', async () => {
    // One latency for every message: x's two new links form at the same moment.
    const sim = new SimNetwork({ seed: SEED, latency: { min: 10, max: 10 }, startTime: START })
    // The largest id is the learner: on each new link the smaller id opens the reconciliation.
    const three = [await node(sim, []), await node(sim, []), await node(sim, [])]
    const [y, z, x] = three.sort((a, b) => (a.id < b.id ? -1 : 1)) as [SimSyncNode, SimSyncNode, SimSyncNode]
    const linked = (a: SimSyncNode, b: SimSyncNode): boolean => a.table.peers.includes(b.id)
    void y.table.connect(z.id)
    expect(await sim.runUntil(() => linked(y, z))).toBe(true)
    const want = keys(0, 60, 'a') // 60 keys: one session of the whole set (no tail first)
    await y.table.update(want)
    await x.table.set('own', 'x')
    expect(await sim.runUntil(() => holds(z, want))).toBe(true)
    const received = x.table.syncStats.entriesReceived
    void y.table.connect(x.id)
    void z.table.connect(x.id)
    expect(await sim.runUntil(() => holds(x, want) && [y, z].every((n) => n.table.get('own') === 'x'))).toBe(true)
    await sim.runFor(5_000)
    // Both neighbours open a reconciliation with x at once and both hold the 60 keys x lacks.
    expect(x.table.syncStats.entriesReceived - received).toBe(60)
  })

  it('a peer that stalls its session holds up another\'s for LEARNING_WAIT_MS at most', async () => {
    const sim = new SimNetwork({ seed: SEED, latency: { min: 10, max: 10 }, startTime: START })
    // Two nodes not linked yet; y, the smaller id, will open the reconciliation on their link.
    const [y, x] = [await node(sim, []), await node(sim, [])].sort((a, b) => (a.id < b.id ? -1 : 1)) as [SimSyncNode, SimSyncNode]
    const want = keys(0, 30, 'y')
    await y.table.update(want)
    await x.table.set('own', 'x') // not an empty table: that one takes a whole table from one peer alone
    // A node speaking the sync protocol by hand opens a reconciliation with x and never goes on.
    const staller = await simMeshNode(sim, [x.id], {}, false, undefined, 'sync1')
    const port = staller.socket.register({ name: 'sync', claims: [{ route: 'whisper', sub: F.reconcile }], onMessage: () => {} })
    expect(await sim.runUntil(() => staller.socket.peers.includes(x.id))).toBe(true)
    await sim.runFor(1_000)
    const items = Array.from({ length: 100 }, (_, i) => ({ time: START + i, id: new Uint8Array(16).fill(i) }))
    await port.direct(x.id, F.reconcile, 7, new RbsrSession(new RbsrStore(items), 'initiator').initiate())
    await sim.runFor(100)
    const t0 = sim.now()
    void y.table.connect(x.id)
    expect(await sim.runUntil(() => holds(x, want))).toBe(true)
    // x answered y once its wait ran out (the stalled session stays open until SESSION_TIMEOUT_MS).
    expect(sim.now() - t0).toBeGreaterThanOrEqual(LEARNING_WAIT_MS)
    expect(sim.now() - t0).toBeLessThan(LEARNING_WAIT_MS + 1_000)
  })

  it('after a partition, the halves send each other the writes made apart: a few times what each node lacked', async () => {
    const sim = new SimNetwork({ seed: SEED, latency: { min: 1, max: 20 }, startTime: START })
    const nodes: SimSyncNode[] = []
    for (let i = 0; i < 8; i++) nodes.push(await node(sim, nodes.map((n) => n.id).slice(-2)))
    const filled = { ...keys(0, 1_000, 'a'), ...keys(1_000, 1_000, 'a') }
    await nodes[0]!.table.update(keys(0, 1_000, 'a'))
    await nodes[4]!.table.update(keys(1_000, 1_000, 'a'))
    expect(await sim.runUntil(() => nodes.every((n) => holds(n, filled)))).toBe(true)
    await sim.runFor(10_000)

    const [left, right] = [nodes.slice(0, 4), nodes.slice(4)]
    sim.partition(left.map((n) => n.id), right.map((n) => n.id))
    const apart = (): boolean => nodes.every((n, i) => n.table.peers.length > 0 && n.table.peers.every((p) => left.some((l) => l.id === p) === i < 4))
    expect(await sim.runUntil(apart)).toBe(true)
    // Each half changes 20 keys its writer owns, spread over the keys (their old writes are everywhere in the order).
    const changes = [0, 1].map((h) => Object.fromEntries(Array.from({ length: 20 }, (_, j) => h * 1_000 + j * 50).map((i) => [`key${String(i).padStart(5, '0')}`, `value ${i} b`])))
    await nodes[0]!.table.update(changes[0]!)
    await nodes[4]!.table.update(changes[1]!)
    expect(await sim.runUntil(() => nodes.every((n, i) => holds(n, changes[i < 4 ? 0 : 1]!)))).toBe(true)
    await sim.runFor(3_000)

    const sessions = (): number => nodes.reduce((s, n) => s + n.table.syncStats.reconciliations, 0)
    const [bytes0, entries0, sessions0] = [sim.stats.bytesDelivered, nodes.reduce((s, n) => s + n.table.syncStats.entriesReceived, 0), sessions()]
    sim.heal()
    for (let i = 0; i < 4; i++) void left[i]!.table.connect(right[i]!.id)
    const all = { ...changes[0], ...changes[1] }
    expect(await sim.runUntil(() => nodes.every((n) => holds(n, all)))).toBe(true)
    await sim.runFor(2_000) // the spreads that follow
    const bytes = sim.stats.bytesDelivered - bytes0
    // Each node learnt from its counterpart; its neighbours learnt the same from theirs. A link is
    // probed once at most, by whichever end's spread fires first (spread.ts): sessions (counted at
    // both ends) stay under 3.5 per link within the halves (3.2 at most over seeds 1–12; 4.0–4.75
    // when every node probed every neighbour after each lesson).
    const links = nodes.reduce((s, n) => s + n.table.peers.length, 0) / 2
    expect((sessions() - sessions0) / links).toBeLessThan(3.5)
    const entries = nodes.reduce((s, n) => s + n.table.syncStats.entriesReceived, 0) - entries0
    // Every node lacked the other half's 20 keys: 160 keys in all, ~35 raw bytes each.
    expect(entries).toBeLessThanOrEqual(160 * 1.25)
    const lacked = 8 * 20 * 35
    expect(bytes / lacked).toBeLessThan(6)
  })

  it('what a session taught before its peer died goes on to the other neighbours (not at the next periodic round)', async () => {
    const sim = new SimNetwork({ seed: SEED, latency: { min: 5, max: 5 }, startTime: START })
    const quick = { keepaliveMs: 300, peerTimeoutMs: 1_000 }
    const x = await node(sim, [], quick)
    const n = await node(sim, [x.id], quick)
    const t = await node(sim, [], quick)
    await x.table.set('base', 'shared')
    expect(await sim.runUntil(() => n.table.get('base') === 'shared')).toBe(true)
    for (let i = 0; i < 3; i++) await t.table.update(keys(i * 1_000, 1_000, 't'))
    await sim.runFor(1_000)
    // t teaches x in batches; t dies after the first has been merged, before its session ends.
    void t.table.connect(x.id)
    expect(await sim.runUntil(() => x.table.size > 1 && x.table.size < 3_001)).toBe(true)
    sim.kill(t.id)
    expect(await sim.runUntil(() => !x.table.peers.includes(t.id))).toBe(true)
    const partial = x.table.size
    expect(partial).toBeLessThan(3_001)
    // Well before x's next periodic round (antiEntropyMs, 30 s): n has what x learnt.
    await sim.runFor(3_000)
    expect(n.table.size).toBe(partial)
  })

  it('two sides that each stay linked, written apart, converge by the mesh\'s reach checks alone: without them they never do', async () => {
    // Each side only ever heard of its own nodes (as parts of a mesh cut by a network fault, every
    // node at maxOutgoing): no connect(), no dial across, nothing but the reach check links them.
    const run = async (reachCheckMs: number | undefined) => {
      const sim = new SimNetwork({ seed: SEED + 7, latency: { min: 2, max: 30 }, startTime: START, discovery: true })
      const options = reachCheckMs === undefined ? {} : { reachCheckMs }
      const side = async (): Promise<SimSyncNode[]> => {
        const nodes: SimSyncNode[] = []
        for (let i = 0; i < 6; i++) nodes.push(await node(sim, sim.random.shuffle(nodes.map((n) => n.id)).slice(0, 3), options))
        return nodes
      }
      const [a, b] = [await side(), await side()]
      const all = [...a, ...b]
      await a[0]!.table.update(keys(0, 20, 'a'))
      await b[0]!.table.update(keys(20, 20, 'b'))
      await a[1]!.table.set('shared', 'from a')
      await sim.runFor(1_000)
      await b[1]!.table.set('shared', 'from b')
      const want = { ...keys(0, 20, 'a'), ...keys(20, 20, 'b') }
      const converged = (): boolean => all.every((n) => holds(n, want) && n.table.get('shared') === all[0]!.table.get('shared'))
      // Ten minutes of virtual time at most, checked every second.
      for (let t = 0; !converged() && t < 600; t++) await sim.runFor(1_000)
      const result = { converged: converged(), at: sim.now() - START, shared: all.map((n) => n.table.get('shared')), bridges: all.reduce((s, n) => s + n.table.stats.bridges, 0) }
      await Promise.all(all.map((n) => n.table.close()))
      return result
    }
    const off = await run(0)
    expect(off.converged).toBe(false)
    expect(off.bridges).toBe(0)
    const on = await run(undefined)
    expect(on.converged).toBe(true)
    expect(on.bridges).toBeGreaterThan(0)
    expect(new Set(on.shared).size).toBe(1) // one winner for the key both sides wrote
    console.warn(`[seed ${SEED + 7}] two sync sides of 6 written apart converged ${(on.at / 1000).toFixed(0)} s after start through ${on.bridges} link(s) the reach checks made`)
  }, 120_000)
})
