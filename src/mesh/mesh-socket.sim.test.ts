import { describe, expect, it } from 'vitest'
import { SimNetwork } from '../testing/sim-network.js'
import { componentOf, simMeshNode, type SimMeshNode } from '../testing/sim-mesh.js'

// MeshSocket on the seeded simulated network: random delivery order and latency, partitions,
// heals and deaths. A failing seed replays exactly: set SEED to reproduce.
const SEED = Number(process.env.SEED ?? 20261125)

async function buildMesh(sim: SimNetwork, count: number): Promise<Map<string, SimMeshNode>> {
  const nodes = new Map<string, SimMeshNode>()
  for (let i = 0; i < count; i++) {
    const ids = [...nodes.keys()]
    const bootstrap = sim.random.shuffle(ids).slice(0, 3)
    const node = await simMeshNode(sim, bootstrap)
    nodes.set(node.id, node)
  }
  const connected = await sim.runUntil(() => [...nodes.values()].every((n) => n.socket.peers.length >= Math.min(3, count - 1)), 5_000_000)
  expect(connected).toBe(true)
  return nodes
}

/** Broadcasts from `origin` and runs until everyone in its component has it. */
async function flood(sim: SimNetwork, nodes: Map<string, SimMeshNode>, origin: SimMeshNode, text: string) {
  const reach = componentOf(origin, nodes)
  const relayed = (): number => [...nodes.values()].reduce((sum, n) => sum + n.socket.stats.relayed, 0)
  const before = relayed() - origin.socket.peers.length // the origin's own copies count too
  await origin.socket.send(text, 42)
  const alive = [...reach].map((id) => nodes.get(id)!).filter((n) => n !== origin)
  const done = await sim.runUntil(() => alive.every((n) => n.messages.some((m) => m.payload[0] === text)), 2_000_000)
  await sim.runFor(2_000) // let stragglers (duplicate copies) arrive: they must not be delivered
  return { reach, done, transmissions: relayed() - before }
}

function deliveriesOf(nodes: Iterable<SimMeshNode>, text: string): number[] {
  return [...nodes].map((n) => n.messages.filter((m) => m.payload[0] === text).length)
}

describe('MeshSocket on a simulated network', () => {
  it('200 nodes: every broadcast reaches every node of its component exactly once, through deaths, partitions and heals', async () => {
    const sim = new SimNetwork({ seed: SEED, latency: { min: 2, max: 40 }, failureDetectionMs: 3_000 })
    const nodes = await buildMesh(sim, 200)
    const all = () => [...nodes.values()].filter((n) => sim.isAlive(n.id))
    const report: string[] = []

    // Stable network.
    for (let k = 0; k < 3; k++) {
      const origin = sim.random.pick(all())
      const r = await flood(sim, nodes, origin, `stable-${k}`)
      expect(r.done).toBe(true)
      expect(r.reach.size).toBe(200)
      expect(deliveriesOf(all(), `stable-${k}`).filter((c) => c !== 1).length).toBe(1) // only the origin has 0
      report.push(`stable: ${r.transmissions} transmissions for ${r.reach.size} nodes`)
    }

    // 20 random deaths: dead peers are detected, replaced, and broadcasts still reach every node
    // connected to their origin exactly once.
    for (const victim of sim.random.shuffle(all()).slice(0, 20)) sim.kill(victim.id)
    await sim.runFor(30_000)
    for (let k = 0; k < 3; k++) {
      const origin = sim.random.pick(all())
      const r = await flood(sim, nodes, origin, `after-deaths-${k}`)
      expect(r.done).toBe(true)
      const counts = [...r.reach].filter((id) => id !== origin.id).map((id) => nodes.get(id)!.messages.filter((m) => m.payload[0] === `after-deaths-${k}`).length)
      expect(counts.every((c) => c === 1)).toBe(true)
      expect(r.reach.size).toBeGreaterThan(170)
      report.push(`after 20 deaths: ${r.transmissions} transmissions for ${r.reach.size} nodes`)
    }

    // A partition into halves, a broadcast on each side, then heal.
    const alive = sim.random.shuffle(all())
    const half = Math.floor(alive.length / 2)
    const left = alive.slice(0, half)
    const right = alive.slice(half)
    sim.partition(left.map((n) => n.id), right.map((n) => n.id))
    // What each origin can reach on its own side, over links that existed when it sent.
    const leftReach = componentOf(left[0]!, nodes, new Set(left.map((n) => n.id)))
    const rightReach = componentOf(right[0]!, nodes, new Set(right.map((n) => n.id)))
    await left[0]!.socket.send('left-side', 1)
    await right[0]!.socket.send('right-side', 2)
    await sim.runFor(20_000) // longer than failure detection: cross links fail and are replaced
    sim.heal()
    await sim.runFor(60_000) // peers re-dial across the healed cut
    // Nobody ever delivers a message twice, whatever happened.
    for (const n of nodes.values()) for (const count of n.delivered.values()) expect(count).toBe(1)
    // Each side's broadcast reached every node its origin was connected to on its side.
    const got = (id: string, text: string): boolean => nodes.get(id)!.messages.some((m) => m.payload[0] === text)
    expect([...leftReach].filter((id) => id !== left[0]!.id).every((id) => got(id, 'left-side'))).toBe(true)
    expect([...rightReach].filter((id) => id !== right[0]!.id).every((id) => got(id, 'right-side'))).toBe(true)
    report.push(`partition: left origin reached ${leftReach.size - 1}/${left.length - 1}, right ${rightReach.size - 1}/${right.length - 1} of their sides`)

    // After the heal, the network is one again and floods reach everyone alive exactly once.
    const origin = sim.random.pick(all())
    const r = await flood(sim, nodes, origin, 'healed')
    expect(r.done).toBe(true)
    expect(r.reach.size).toBe(all().length)
    report.push(`after partition+heal: ${r.transmissions} transmissions for ${r.reach.size} nodes`)
    for (const n of nodes.values()) for (const count of n.delivered.values()) expect(count).toBe(1)
    const dupes = [...nodes.values()].reduce((s, n) => s + n.socket.stats.duplicates, 0)
    console.warn(`[seed ${SEED}] ${report.join('; ')}; duplicate copies dropped by relays: ${dupes}; application duplicates: 0`)
    await Promise.all([...nodes.values()].map((n) => n.socket.close()))
  }, 120_000)
})
