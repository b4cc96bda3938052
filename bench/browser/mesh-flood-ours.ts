import { Identity, MeshSocket, WebRtcTransport, type MeshNetworkFactory, type MeshStats } from '../../src/index.js'
import { LocalSignalingHub } from '../../src/testing/local-signaler.js'
import { Prng } from '../../src/testing/prng.js'
import { edgesOf, isConnected, waitUntil, type Edge } from './flood-common.js'

// Ours: `n` MeshSockets in one page over WebRTC (signed mode, or 0.7's unsigned), signals handed over in-page (LocalSignalingHub),
// each bootstrapped with a few earlier nodes and dialling `maxOutgoing: 2` (average degree ≈ 4).

let nodes: MeshSocket[] = []
let transports: WebRtcTransport[] = []
let broadcasts = 0
/** Error codes the sockets reported (courtesy closes, failed dials …), for the record. */
const errors: Record<string, number> = {}
const delivered = { tag: -1, count: 0, target: 0, resolve: (_t: number) => {} }

export async function oursBuild(n: number, seed: number, security: 'signed' | 'unsigned' = 'signed'): Promise<{ edges: Edge[]; buildMs: number; settleMs: number; connections: number; errors: Record<string, number> }> {
  const rng = new Prng(seed)
  const hub = new LocalSignalingHub()
  const identities = await Promise.all(Array.from({ length: n }, () => Identity.generate()))
  const ids = identities.map((i) => i.id)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const earlier = rng.shuffle(ids.slice(0, i)).slice(0, 3)
    const network: MeshNetworkFactory = async ({ identity }) => {
      const signaler = hub.signaler(identity.id)
      const transport = new WebRtcTransport({ signaler, dialTimeoutMs: 10_000 })
      transports.push(transport)
      const close = async (): Promise<void> => {
        await transport.close()
        signaler.close()
      }
      return { transport, bootstrap: earlier, close }
    }
    const mesh = new MeshSocket({ subnet: 'bench', identity: identities[i]!, maxOutgoing: 2, security }, { network })
    mesh.on('error', (err) => void (errors[err.code] = (errors[err.code] ?? 0) + 1))
    mesh.on('message', (m) => {
      if (m.payload[1] !== delivered.tag) return
      if (++delivered.count === delivered.target) delivered.resolve(performance.now())
    })
    nodes.push(mesh)
    await mesh.ready()
  }
  const buildMs = performance.now() - t0
  // Settled: one connected network, every link known to both ends, unchanged for 3 s.
  let last = ''
  let stableSince = performance.now()
  await waitUntil(() => {
    const lists = nodes.map((m) => m.peers.map((p) => ids.indexOf(p)))
    const key = JSON.stringify(edgesOf(lists))
    if (key !== last || !isConnected(lists)) {
      last = key
      stableSince = performance.now()
    }
    return performance.now() - stableSince >= 3000
  }, 120_000, 250)
  const edges = edgesOf(nodes.map((m) => m.peers.map((p) => ids.indexOf(p))))
  return { edges, buildMs, settleMs: performance.now() - t0 - buildMs, connections: connectionsCreated(), errors: { ...errors } }
}

const connectionsCreated = (): number => transports.reduce((total, t) => total + t.connectionsCreated, 0)
const sum = (stats: MeshStats[], key: keyof MeshStats): number => stats.reduce((s, x) => s + x[key], 0)

/** One broadcast per origin: ms until all others emitted 'message', and transmissions per delivery. */
export async function oursBroadcasts(origins: number[]): Promise<{ ms: number[]; tx: number[]; frameBytes: number; undrained: number; dials: number; errors: Record<string, number> }> {
  const dialsBefore = connectionsCreated()
  for (const code of Object.keys(errors)) delete errors[code]
  const ms: number[] = []
  const tx: number[] = []
  let bytes = 0
  let frames = 0
  let undrained = 0
  for (const o of origins) {
    const k = ++broadcasts
    const before = nodes.map((m) => m.stats)
    const origin = nodes[o]!
    const done = new Promise<number>((resolve) => Object.assign(delivered, { tag: k, count: 0, target: nodes.length - 1, resolve }))
    const fanout = origin.peers.length
    const t0 = performance.now()
    void origin.send('bench', k)
    ms.push((await done) - t0)
    // Every transmission has arrived (as a delivery or a duplicate) before the next broadcast.
    const sent = (): number => sum(nodes.map((m) => m.stats), 'relayed') - sum(before, 'relayed') + fanout
    const arrived = (): number => sum(nodes.map((m) => m.stats), 'duplicates') - sum(before, 'duplicates') + nodes.length - 1
    if (!(await waitUntil(() => arrived() === sent(), 5000).then(() => true, () => false))) undrained++
    tx.push(sent() / (nodes.length - 1))
    const after = nodes.map((m) => m.stats)
    bytes += sum(after, 'bytesOut') - sum(before, 'bytesOut')
    frames += sum(after, 'messagesOut') - sum(before, 'messagesOut')
  }
  return { ms, tx, frameBytes: bytes / frames, undrained, dials: connectionsCreated() - dialsBefore, errors: { ...errors } }
}

export function oursEdges(): Edge[] {
  const ids = nodes.map((m) => m.id)
  return edgesOf(nodes.map((m) => m.peers.map((p) => ids.indexOf(p))))
}

export async function oursClose(): Promise<void> {
  await Promise.all(nodes.map((m) => m.close()))
  nodes = []
  transports = []
}
