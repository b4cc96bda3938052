import { SyncSocket, TransportError, webRtcNetwork, type Link, type NetworkFactory, type Signaler, type Transport, type TransportEvents } from '../../src/index.js'
import { simDisk } from '../../src/testing/sim-disk.js'
import type { Replica, Tracker } from './sync-replica.js'

// Our side of the sync bench: a SyncSocket from the package entry (IndexedDB storage, persistent
// identity, the default WebRTC network), on a network wrapper that can split the subnet in two.

/**
 * The default WebRTC network seen through the public seam (as demo/sync-network.ts does), with a
 * partition switch: while `block(ids)` is in force, links to those nodes are closed, links they
 * open are closed at once, and dials to them fail at once (PEER_UNREACHABLE, as for a node the
 * signaling server does not know), so the dialler links within its own half. `unblock()` ends it.
 *
 * `viaServer(ids)`: WebRTC signals to those nodes go through the signaling server. Once a node has
 * a neighbour, the mesh routes every signal through the mesh, and two halves of a partition have
 * no route to each other: a `connect()` across then times out (DIAL_TIMEOUT). The bench's heal
 * uses this to dial across as a node outside the mesh would (docs/BENCHMARKS.md says so).
 */
export function partitionable(inner: NetworkFactory): { factory: NetworkFactory; block(ids: string[]): void; unblock(): void; viaServer(ids: string[]): void } {
  const links = new Set<Link>()
  let blocked = new Set<string>()
  let direct = new Set<string>()
  const cut = (link: Link): boolean => link.remoteId !== undefined && blocked.has(link.remoteId)
  const track = (link: Link): Link => {
    links.add(link)
    link.on('close', () => links.delete(link))
    return link
  }
  const wrap = (t: Transport): Transport => ({
    get localId() {
      return t.localId
    },
    get connectionsLeft() {
      return t.connectionsLeft ?? Number.POSITIVE_INFINITY
    },
    async dial(remoteId, options) {
      if (blocked.has(remoteId)) throw new TransportError('PEER_UNREACHABLE', `${remoteId} is on the other side of the partition`)
      const link = track(await t.dial(remoteId, options))
      if (cut(link)) void link.close()
      return link
    },
    on<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): () => void {
      if (event !== 'link') return t.on(event, fn)
      return t.on('link', (link) => {
        if (cut(link)) return void link.close()
        ;(fn as (...args: TransportEvents['link']) => void)(track(link))
      })
    },
    close: () => t.close(),
  })
  return {
    factory: async (ctx) => {
      const made: { server?: Signaler | undefined } = {}
      const signaler: Signaler = {
        localId: ctx.signaler.localId,
        sendSignal: (to, data) => (direct.has(to) && made.server !== undefined ? made.server.sendSignal(to, data) : ctx.signaler.sendSignal(to, data)),
        on: (event, fn) => ctx.signaler.on(event, fn),
      }
      const network = await inner({ ...ctx, signaler })
      made.server = network.server
      return { ...network, transport: wrap(network.transport) }
    },
    block(ids) {
      blocked = new Set(ids)
      for (const link of [...links]) if (cut(link)) void link.close()
    },
    unblock() {
      blocked = new Set()
    },
    viaServer(ids) {
      direct = new Set(ids)
    },
  }
}

export interface OursConfig {
  signaling: string
  subnet: string
  security: 'signed' | 'unsigned'
  /** A diagnostic: the table in memory instead of IndexedDB (bench:sync --memory). */
  memory?: boolean
}

/** --memory: the page's tables in memory, kept across its sockets as IndexedDB would keep them. */
const memory = simDisk()

export class OursReplica implements Replica {
  readonly socket: SyncSocket
  readonly net: ReturnType<typeof partitionable>
  /** Error codes the socket reported, for the record. */
  readonly errors: Record<string, number> = {}

  constructor(config: OursConfig, tracker: Tracker) {
    this.net = partitionable(webRtcNetwork({ signaling: config.signaling }))
    this.socket = new SyncSocket({ signaling: config.signaling, subnet: config.subnet, security: config.security }, { network: this.net.factory, ...(config.memory === true ? { storage: memory.storage } : {}) })
    this.socket.on('update', (key) => tracker.changed(key))
    this.socket.on('error', (err) => void (this.errors[err.code] = (this.errors[err.code] ?? 0) + 1))
  }

  get id(): string {
    return this.socket.id
  }
  size = (): number => this.socket.size
  get = (key: string): unknown => this.socket.get(key)
  set = (key: string, value: string): Promise<void> => this.socket.set(key, value)
  setMany = (entries: Array<[string, string]>): Promise<void> => this.socket.update(Object.fromEntries(entries))
  ready = (): Promise<void> => this.socket.ready()
  peers = (): string[] => this.socket.peers
  close = (): Promise<void> => this.socket.close()
}
