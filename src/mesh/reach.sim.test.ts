import { describe, expect, it } from 'vitest'
import type { MeshOptions } from './options.js'
import { SimNetwork } from '../testing/sim-network.js'
import { componentOf, simMeshNode, type SimMeshNode } from '../testing/sim-mesh.js'

// The reach check (reach.ts) on the seeded simulated network, whose discovery sees every live
// node as a signaling server would. A failing seed replays: set SEED to reproduce.
const SEED = Number(process.env.SEED ?? 20261207)

/** `count` nodes that only ever heard of each other: one part, every node at maxOutgoing. */
async function part(sim: SimNetwork, count: number, options: MeshOptions): Promise<SimMeshNode[]> {
  const nodes: SimMeshNode[] = []
  for (let i = 0; i < count; i++) nodes.push(await simMeshNode(sim, sim.random.shuffle(nodes.map((n) => n.id)).slice(0, 3), options))
  return nodes
}

function parts(nodes: SimMeshNode[]): number {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const left = new Set(byId.keys())
  let count = 0
  for (const n of nodes) {
    if (!left.has(n.id)) continue
    count++
    for (const id of componentOf(n, byId)) left.delete(id)
  }
  return count
}

const sum = (nodes: SimMeshNode[], stat: 'reachChecks' | 'bridges'): number => nodes.reduce((s, n) => s + n.socket.stats[stat], 0)

/** Two parts of 10 formed apart, then left running for `ms`: what the mesh became. */
async function twoParts(seed: number, options: MeshOptions, ms: number) {
  const sim = new SimNetwork({ seed, latency: { min: 2, max: 40 }, discovery: true })
  const a = await part(sim, 10, options)
  const b = await part(sim, 10, options)
  const all = [...a, ...b]
  expect(await sim.runUntil(() => all.every((n) => n.socket.peers.length >= 3), 5_000_000)).toBe(true)
  const formed = parts(all)
  // Virtual ms from the parts' forming to one mesh, if within `ms`.
  let joinedAfter: number | undefined
  for (const start = sim.now(); joinedAfter === undefined && sim.now() - start <= ms; await sim.runFor(1_000)) {
    if (parts(all) === 1) joinedAfter = sim.now() - start
  }
  return { sim, a, b, all, formed, joinedAfter }
}

describe('reach check on a simulated network', () => {
  it('two parts that each stay linked join: without the check they never do', async () => {
    const off = await twoParts(SEED, { reachCheckMs: 0 }, 10 * 60_000)
    expect(off.formed).toBe(2)
    expect(off.joinedAfter).toBeUndefined()
    expect(parts(off.all)).toBe(2)
    expect(sum(off.all, 'reachChecks')).toBe(0)
    await Promise.all(off.all.map((n) => n.socket.close()))

    const on = await twoParts(SEED, {}, 10 * 60_000)
    expect(on.formed).toBe(2)
    // Each part probes about once a period (30–90 s), and about half of what a node hears of from
    // the server is in the other part: a few periods at most.
    expect(on.joinedAfter).toBeLessThan(6 * 60_000)
    expect(sum(on.all, 'bridges')).toBeGreaterThan(0)
    // A broadcast from one former part reaches every node of the other, once.
    await on.a[0]!.socket.send('across', 1)
    expect(await on.sim.runUntil(() => on.b.every((n) => n.messages.some((m) => m.payload[0] === 'across')), 1_000_000)).toBe(true)
    await on.sim.runFor(2_000)
    expect(on.b.map((n) => n.messages.filter((m) => m.payload[0] === 'across').length)).toEqual(on.b.map(() => 1))
    // Checks sent before the join end in links too (each node that picked the other part). Once
    // those are done, checks find their nodes: no more links are made.
    await on.sim.runFor(2 * 60_000)
    const bridges = sum(on.all, 'bridges')
    const checks = sum(on.all, 'reachChecks')
    await on.sim.runFor(5 * 60_000)
    expect(sum(on.all, 'bridges')).toBe(bridges)
    expect(sum(on.all, 'reachChecks')).toBeGreaterThan(checks + 2) // the checks go on
    console.warn(`[seed ${SEED}] two parts of 10 joined ${(on.joinedAfter! / 1000).toFixed(0)} s after forming (virtual), ${bridges} bridge link(s)`)
    await Promise.all(on.all.map((n) => n.socket.close()))
  }, 120_000)

  it('a whole mesh: checks are answered, no link is made, and they cost little', async () => {
    const run = async (options: MeshOptions) => {
      const sim = new SimNetwork({ seed: SEED + 1, latency: { min: 2, max: 40 }, discovery: true })
      const nodes = await part(sim, 16, options)
      expect(await sim.runUntil(() => nodes.every((n) => n.socket.peers.length >= 3) && parts(nodes) === 1, 5_000_000)).toBe(true)
      await sim.runFor(60_000) // the dialler fills every node's maxOutgoing from peer exchange
      const links = nodes.reduce((s, n) => s + n.socket.peers.length, 0)
      const before = sim.stats.bytesSent
      await sim.runFor(10 * 60_000)
      const result = { nodes, links, linksAfter: nodes.reduce((s, n) => s + n.socket.peers.length, 0), bytes: sim.stats.bytesSent - before }
      await Promise.all(nodes.map((n) => n.socket.close()))
      return result
    }
    const on = await run({})
    const off = await run({ reachCheckMs: 0 })
    expect(sum(on.nodes, 'bridges')).toBe(0)
    expect(on.linksAfter).toBe(on.links)
    const checks = sum(on.nodes, 'reachChecks')
    // Each node's turn comes every 30–90 s, but a node that heard a probe since its last turn
    // skips it: over 10 minutes (10 mean periods) about one probe per period for the whole mesh,
    // not one per node (160).
    expect(checks).toBeGreaterThan(5)
    expect(checks).toBeLessThan(3 * 10)
    const perNodeMinute = (on.bytes - off.bytes) / 16 / 10
    console.warn(`[seed ${SEED + 1}] 16 whole-mesh nodes, 10 min: ${checks} checks, 0 links; ${(perNodeMinute / 1000).toFixed(2)} KB per node per minute over keepalives alone`)
  }, 120_000)
})
