import SimplePeer from 'simple-peer/simplepeer.min.js'
import type { Instance, SignalData } from 'simple-peer'
import { waitUntil, type Edge } from './flood-common.js'

// Raw: the same topology with plain simple-peer channels (signals handed over in-page by
// macrotask with a JSON round trip, as LocalSignalingHub does) and a naive flood: a node
// forwards a message id it has not seen to every neighbour except the one it came from.

let neighbours: Map<number, Instance>[] = []
let seen: Set<number>[] = []
let floods = 0
const flood = { sent: 0, arrived: 0, delivered: 0, target: 0, resolve: (_t: number) => {} }

function onData(k: number, from: number, data: Uint8Array): void {
  flood.arrived++
  const seq = new DataView(data.buffer, data.byteOffset, 4).getUint32(0)
  if (seen[k]!.has(seq)) return
  seen[k]!.add(seq)
  for (const [m, p] of neighbours[k]!) {
    if (m === from) continue
    p.send(data)
    flood.sent++
  }
  if (++flood.delivered === flood.target) flood.resolve(performance.now())
}

function link(i: number, j: number): Promise<void> {
  const a = new SimplePeer({ initiator: true, config: { iceServers: [] } })
  const b = new SimplePeer({ config: { iceServers: [] } })
  a.on('signal', (d: SignalData) => setTimeout(() => b.signal(JSON.parse(JSON.stringify(d)) as SignalData), 0))
  b.on('signal', (d: SignalData) => setTimeout(() => a.signal(JSON.parse(JSON.stringify(d)) as SignalData), 0))
  a.on('data', (d: Uint8Array) => onData(i, j, d))
  b.on('data', (d: Uint8Array) => onData(j, i, d))
  neighbours[i]!.set(j, a)
  neighbours[j]!.set(i, b)
  let open = 0
  return new Promise((resolve, reject) => {
    for (const p of [a, b]) {
      p.once('connect', () => void (++open === 2 && resolve()))
      p.once('error', reject)
    }
  })
}

/** Builds the topology, at most 8 links negotiating at once. */
export async function rawBuild(n: number, edges: Edge[]): Promise<{ buildMs: number; connections: number }> {
  neighbours = Array.from({ length: n }, () => new Map())
  seen = Array.from({ length: n }, () => new Set())
  const t0 = performance.now()
  const queue = [...edges]
  const worker = async (): Promise<void> => {
    for (let e = queue.shift(); e !== undefined; e = queue.shift()) await link(e[0], e[1])
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return { buildMs: performance.now() - t0, connections: 2 * edges.length }
}

/** One flood per origin, of `frameBytes`-byte messages: ms until all others have it, transmissions per delivery. */
export async function rawBroadcasts(origins: number[], frameBytes: number): Promise<{ ms: number[]; tx: number[]; undrained: number }> {
  const n = neighbours.length
  const ms: number[] = []
  const tx: number[] = []
  let undrained = 0
  for (const o of origins) {
    const k = ++floods
    const data = new Uint8Array(Math.max(4, Math.round(frameBytes)))
    new DataView(data.buffer).setUint32(0, k)
    const done = new Promise<number>((resolve) => Object.assign(flood, { sent: 0, arrived: 0, delivered: 0, target: n - 1, resolve }))
    const t0 = performance.now()
    seen[o]!.add(k)
    for (const p of neighbours[o]!.values()) {
      p.send(data)
      flood.sent++
    }
    ms.push((await done) - t0)
    if (!(await waitUntil(() => flood.arrived === flood.sent, 5000).then(() => true, () => false))) undrained++
    tx.push(flood.sent / (n - 1))
  }
  return { ms, tx, undrained }
}

export function rawClose(): void {
  for (const m of neighbours) for (const p of m.values()) p.destroy()
  neighbours = []
}
