import { describe, expect, it } from 'vitest'
import type { Link } from '../transport/types.js'
import { SimNetwork } from './sim-network.js'
import type { SimNetworkOptions, SimTransport } from './sim-network.js'

/** A node of a hand-rolled flood: forwards each new message id to every other link once. */
type FloodNode = { id: string; transport: SimTransport; links: Link[]; seen: Set<number>; delivered: number; duplicates: number }

/** `n` nodes, each dialing `degree` random others (ids and choices from the network's seed). */
async function randomGraph(net: SimNetwork, n: number, degree: number): Promise<FloodNode[]> {
  const nodes: FloodNode[] = []
  const adopt = (node: FloodNode, link: Link): void => {
    node.links.push(link)
    link.on('message', (data) => onFlood(node, link, data))
    link.on('close', () => node.links.splice(node.links.indexOf(link), 1))
  }
  for (let i = 0; i < n; i++) {
    const node: FloodNode = { id: `n${i}`, transport: net.transport(`n${i}`), links: [], seen: new Set(), delivered: 0, duplicates: 0 }
    node.transport.on('link', (link) => adopt(node, link))
    nodes.push(node)
  }
  const pairs = new Set<string>()
  for (const node of nodes) {
    for (let k = 0; k < degree; k++) {
      const peer = net.random.pick(nodes)
      const key = [node.id, peer.id].sort().join()
      if (peer === node || pairs.has(key)) continue
      pairs.add(key)
      void node.transport.dial(peer.id).then((link) => adopt(node, link))
    }
  }
  expect(await net.runUntilIdle()).toBe(true)
  return nodes
}

function onFlood(node: FloodNode, from: Link, data: Uint8Array): void {
  const id = new DataView(data.buffer, data.byteOffset).getUint32(0)
  if (node.seen.has(id)) {
    node.duplicates++
    return
  }
  node.seen.add(id)
  node.delivered++
  for (const link of node.links) if (link !== from) void link.send(data)
}

function flood(origin: FloodNode, id: number, size: number): void {
  const data = new Uint8Array(Math.max(4, size))
  new DataView(data.buffer).setUint32(0, id)
  origin.seen.add(id)
  for (const link of origin.links) void link.send(data)
}

/** Nodes reachable from `origin` over open links (the graph the flood can use). */
function reachable(nodes: FloodNode[], origin: FloodNode): Set<string> {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const seen = new Set([origin.id])
  const queue = [origin]
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    for (const link of node.links) {
      const next = link.remoteId === undefined ? undefined : byId.get(link.remoteId)
      if (next === undefined || seen.has(next.id) || link.state !== 'open') continue
      seen.add(next.id)
      queue.push(next)
    }
  }
  return seen
}

/** A busy scenario (random graph, drops, a kill, a partition, timers) reduced to its trace. */
async function scenario(seed: number): Promise<string[]> {
  const trace: string[] = []
  const options: SimNetworkOptions = {
    seed,
    latency: { min: 1, max: 30 },
    dropRate: 0.05,
    failureDetectionMs: 200,
    trace: (e) => trace.push(`${e.time.toFixed(6)} ${e.type} ${e.from}>${e.to} ${e.bytes ?? ''}`),
  }
  const net = new SimNetwork(options)
  const nodes = await randomGraph(net, 30, 3)
  for (let i = 0; i < 5; i++) {
    const origin = net.random.pick(nodes)
    origin.transport.clock.setTimeout(() => flood(origin, i, 1 + net.random.int(2000)), net.random.int(50))
  }
  net.partition(['n1', 'n2', 'n3'], ['n4', 'n5'])
  net.clock.setTimeout(() => net.kill('n7'), 20)
  net.clock.setTimeout(() => net.heal(), 100)
  expect(await net.runUntilIdle()).toBe(true)
  trace.push(JSON.stringify(net.stats))
  return trace
}

describe('SimNetwork: determinism', () => {
  it('the same seed replays the same events in the same order; another seed does not', async () => {
    const first = await scenario(42)
    const again = await scenario(42)
    const other = await scenario(43)
    expect(first.length).toBeGreaterThan(300)
    expect(again).toEqual(first)
    expect(other).not.toEqual(first)
  })
})

describe('SimNetwork: 200-node smoke test', () => {
  it('floods a random graph: every reachable node gets each message exactly once', async () => {
    const net = new SimNetwork({ seed: 2024, latency: { min: 5, max: 80 }, failureDetectionMs: 1000 })
    const nodes = await randomGraph(net, 200, 3)
    for (const victim of net.random.shuffle([...nodes.slice(1)]).slice(0, 10)) net.kill(victim.id)
    expect(await net.runUntilIdle()).toBe(true) // failure detection closes the victims' links
    const origin = nodes[0] as FloodNode
    const expected = reachable(nodes, origin)
    expect(expected.size).toBeGreaterThan(150)

    for (let id = 1; id <= 3; id++) flood(origin, id, 512)
    expect(await net.runUntilIdle()).toBe(true)

    for (const node of nodes) {
      const live = net.isAlive(node.id)
      expect({ id: node.id, delivered: node.delivered }).toEqual({
        id: node.id,
        delivered: live && expected.has(node.id) && node !== origin ? 3 : 0,
      })
    }
    const duplicates = nodes.reduce((sum, n) => sum + n.duplicates, 0)
    expect(duplicates).toBeGreaterThan(0) // the seen-set did real work
    expect(net.stats.dropped).toBe(0)
  })
})
