import type { MeshBench } from './browser/mesh-page.js'

// Turns the raw numbers of bench/mesh-browser.ts into the markdown of docs/BENCHMARKS.md.

type Out<K extends keyof MeshBench> = Awaited<ReturnType<MeshBench[K]>>
export interface Results {
  connect: { ours: number[]; raw: number[]; rawFull: number[] }
  mibps: { ours: number[]; oursZeros: number[]; raw: number[] }
  flood?: {
    nodes: number
    origins: number[]
    built: Out<'oursBuild'>
    rawBuilt: Out<'rawBuild'>
    ours: Out<'oursBroadcasts'>
    raw: Out<'rawBroadcasts'>
    /** The same in the signed mode (the default), on a network of its own. */
    signed?: { built: Out<'oursBuild'>; ours: Out<'oursBroadcasts'> }
    topologyChanged: boolean
  }
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN
const f = (x: number, digits = 1): string => x.toFixed(digits)
const codes = (errors: Record<string, number>): string => Object.entries(errors).map(([c, n]) => `${c} × ${n}`).join(', ') || 'none'
const range = (xs: number[]): string => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`

/** Hop distances from `from` over the edge list. */
function hops(n: number, edges: [number, number][], from: number): number[] {
  const adj = Array.from({ length: n }, () => [] as number[])
  for (const [i, j] of edges) {
    adj[i]!.push(j)
    adj[j]!.push(i)
  }
  const dist = Array<number>(n).fill(Infinity)
  dist[from] = 0
  for (let queue = [from]; queue.length > 0; ) {
    const next: number[] = []
    for (const i of queue) {
      for (const j of adj[i]!) {
        if (dist[j] !== Infinity) continue
        dist[j] = dist[i]! + 1
        next.push(j)
      }
    }
    queue = next
  }
  return dist
}

export function report(r: Results): string {
  const c = r.connect
  const m = r.mibps
  const lines = [
    '| measure | raw simple-peer | p2p-today MeshSocket | ours/raw |',
    '|---|---|---|---|',
    `| connect to a first peer, median of ${c.ours.length} (ms): raw \`new SimplePeer\` → 'connect'; ours constructor → 'peer' | ${f(median(c.raw))} (${range(c.raw)}) | ${f(median(c.ours))} (${range(c.ours)}) | ${f(median(c.ours) / median(c.raw), 2)} |`,
    `| the same, raw counted like ours: \`Identity.generate()\` + \`SignalingClient.connect()\` + the above (ms) | ${f(median(c.rawFull))} (${range(c.rawFull)}) | ${f(median(c.ours))} | ${f(median(c.ours) / median(c.rawFull), 2)} |`,
    `| 64 MiB one way, median of ${m.ours.length} (MiB/s): raw 16 KiB \`send()\` + \`bufferedamountlow\`; ours \`whisper()\` of 1 MiB random bytes, awaited | ${f(median(m.raw))} (${range(m.raw)}) | ${f(median(m.ours))} (${range(m.ours)}) | ${f(median(m.ours) / median(m.raw), 2)} |`,
    `| the same, ours with zero-filled (compressible) 1 MiB messages (MiB/s) | ${f(median(m.raw))} | ${f(median(m.oursZeros))} (${range(m.oursZeros)}) | ${f(median(m.oursZeros) / median(m.raw), 2)} |`,
  ]
  const fl = r.flood
  if (fl === undefined) return lines.join('\n')
  const [ours, raw] = [fl.ours.ms.slice(1), fl.raw.ms.slice(1)]
  const [oursTx, rawTx] = [fl.ours.tx.slice(1), fl.raw.tx.slice(1)]
  lines.push(
    `| broadcast to all ${fl.nodes - 1} others of a ${fl.nodes}-node network, median of ${ours.length} (ms): raw naive flood; ours \`send()\` → last 'message' | ${f(median(raw), 2)} (${range(raw)}) | ${f(median(ours), 2)} (${range(ours)}) | ${f(median(ours) / median(raw), 2)} |`,
    ...(fl.signed === undefined
      ? []
      : [
          `| the same, ours in the signed mode (the default: every copy's signature checked before it is relayed; a network of its own, ${fl.signed.built.edges.length} links; frames ≈ ${f(fl.signed.ours.frameBytes, 0)} B) | ${f(median(raw), 2)} | ${f(median(fl.signed.ours.ms.slice(1)), 2)} (${range(fl.signed.ours.ms.slice(1))}) | ${f(median(fl.signed.ours.ms.slice(1)) / median(raw), 2)} |`,
        ]),
    `| transmissions per delivered broadcast, median (mean) | ${f(median(rawTx), 2)} (${f(rawTx.reduce((s, x) => s + x, 0) / rawTx.length, 2)}) | ${f(median(oursTx), 2)} (${f(oursTx.reduce((s, x) => s + x, 0) / oursTx.length, 2)}) | ${f(median(oursTx) / median(rawTx), 2)} |`,
  )
  const edges = fl.built.edges
  const degree = Array<number>(fl.nodes).fill(0)
  for (const [i, j] of edges) {
    degree[i]!++
    degree[j]!++
  }
  const depth = fl.origins.slice(1).map((o) => Math.max(...hops(fl.nodes, edges, o)))
  const diameter = Math.max(...Array.from({ length: fl.nodes }, (_, o) => Math.max(...hops(fl.nodes, edges, o))))
  lines.push(
    '',
    `Network: ${fl.nodes} nodes, ${edges.length} links, degree ${f((2 * edges.length) / fl.nodes, 2)} on average (${Math.min(...degree)}–${Math.max(...degree)}), ` +
      `diameter ${diameter}, origin eccentricity ${median(depth)} (median); ours built in ${f(fl.built.buildMs / 1000)} s + settled in ${f(fl.built.settleMs / 1000)} s ` +
      `with ${fl.built.connections} RTCPeerConnections; raw built in ${f(fl.rawBuilt.buildMs / 1000)} s with ${fl.rawBuilt.connections}. ` +
      `Ours frames ≈ ${f(fl.ours.frameBytes, 0)} B, raw messages padded to that. Topology changed during ours: ${fl.topologyChanged ? 'YES' : 'no'} (peer connections created meanwhile: ${fl.ours.dials}); ` +
      `broadcasts not drained within 5 s: ours ${fl.ours.undrained}, raw ${fl.raw.undrained}. ` +
      `Errors the sockets reported while building: ${codes(fl.built.errors)}; during the broadcasts: ${codes(fl.ours.errors)}` +
      (fl.signed === undefined ? '.' : `; signed network: ${codes(fl.signed.built.errors)} / ${codes(fl.signed.ours.errors)}, not drained ${fl.signed.ours.undrained}.`),
  )
  return lines.join('\n')
}
