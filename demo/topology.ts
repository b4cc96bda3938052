/**
 * What one node knows of the network's shape: itself, its direct peers, and the peer lists other
 * nodes announce (app broadcasts `['demo:topology', [ids…]]`). Pure: time comes in as `now`.
 */

export const TOPOLOGY_TAG = 'demo:topology'

export const TOPOLOGY_LIMITS = Object.freeze({
  /** An announcement not renewed for this long is forgotten (nodes announce every ~2 s). */
  ttlMs: 7_000,
  /** Ids taken from one announcement; the rest are ignored. */
  maxPeersPerReport: 32,
  /** Nodes whose announcements are kept; announcements from further nodes are ignored. */
  maxReports: 128,
  /** Longest id accepted (node ids are ~65 base58 characters). */
  maxIdLength: 100,
})

export type NodeKind = 'self' | 'neighbour' | 'other'
export interface GraphNode {
  id: string
  kind: NodeKind
}
export interface GraphEdge {
  a: string
  b: string
}
export interface GraphView {
  nodes: GraphNode[]
  edges: GraphEdge[]
}

/** The payload a node broadcasts to announce its direct peers. */
export function topologyPayload(peers: readonly string[]): unknown[] {
  return [TOPOLOGY_TAG, [...peers]]
}

/**
 * The announced peer ids if `payload` is a topology announcement, else undefined. Payloads come
 * from other nodes: anything malformed is undefined, never an exception.
 */
export function parseTopology(payload: readonly unknown[]): string[] | undefined {
  if (payload.length !== 2 || payload[0] !== TOPOLOGY_TAG || !Array.isArray(payload[1])) return undefined
  const ids = (payload[1] as unknown[]).filter(
    (id): id is string => typeof id === 'string' && id !== '' && id.length <= TOPOLOGY_LIMITS.maxIdLength,
  )
  return ids.slice(0, TOPOLOGY_LIMITS.maxPeersPerReport)
}

export class Topology {
  readonly self: string
  #peers: string[] = []
  readonly #reports = new Map<string, { peers: string[]; at: number }>()

  constructor(self: string) {
    this.self = self
  }

  /** This node's direct peers (MeshSocket.peers). */
  setPeers(peers: readonly string[]): void {
    this.#peers = peers.filter((p) => p !== this.self)
  }

  /** `from` announced its peers. Returns false when the announcement was ignored. */
  report(from: string, peers: readonly string[], now: number): boolean {
    if (from === this.self) return false
    if (!this.#reports.has(from) && this.#reports.size >= TOPOLOGY_LIMITS.maxReports) return false
    this.#reports.set(from, { peers: [...peers], at: now })
    return true
  }

  /** Drops what `id` announced (it left us; if it is still around, its next announcement returns). */
  forget(id: string): void {
    this.#reports.delete(id)
  }

  /** Forgets stale announcements; true if anything was dropped. */
  prune(now: number): boolean {
    let dropped = false
    for (const [id, r] of this.#reports) {
      if (now - r.at > TOPOLOGY_LIMITS.ttlMs) {
        this.#reports.delete(id)
        dropped = true
      }
    }
    return dropped
  }

  /** Nodes (self, then neighbours, then others, each group sorted) and undirected edges. */
  view(): GraphView {
    const neighbours = new Set(this.#peers)
    const edges = new Map<string, GraphEdge>()
    const others = new Set<string>()
    const link = (x: string, y: string): void => {
      if (x === y) return
      const [a, b] = x < y ? [x, y] : [y, x]
      edges.set(`${a} ${b}`, { a, b })
    }
    for (const p of neighbours) link(this.self, p)
    for (const [from, r] of this.#reports) {
      for (const p of [from, ...r.peers]) if (p !== this.self && !neighbours.has(p)) others.add(p)
      for (const p of r.peers) link(from, p)
    }
    const nodes: GraphNode[] = [
      { id: this.self, kind: 'self' },
      ...[...neighbours].sort().map((id): GraphNode => ({ id, kind: 'neighbour' })),
      ...[...others].sort().map((id): GraphNode => ({ id, kind: 'other' })),
    ]
    return { nodes, edges: [...edges.values()] }
  }
}
