import { BoundedMap } from '../util/bounded-map.js'
import { Emitter } from '../util/emitter.js'
import type { Signaler, SignalerEvents } from '../transport/types.js'

/**
 * Peer-assisted signaling: the signaler a MeshSocket hands its WebRTC transport. While the node
 * has no neighbour, blobs go through the signaling server; once it has one, they are routed
 * through the mesh (`viaMesh`), so the server is only needed to bootstrap. One exception: a node
 * that is negotiating with us through the server (a newcomer, not in the mesh yet) is answered
 * the same way, since the mesh cannot reach it. Blobs arriving from either path are emitted as
 * 'signal'.
 */
const MAX_REMEMBERED = 1024

export class MeshSignaler implements Signaler {
  readonly localId: string
  readonly #events = new Emitter<SignalerEvents>()
  readonly #viaMesh: (to: string, blob: Record<string, unknown>) => boolean
  #server: Signaler | undefined
  #offServer: (() => void) | undefined
  /** Blobs sent through the mesh and through the server (for stats and tests). */
  readonly counts = { mesh: 0, server: 0, dropped: 0 }
  /** Nodes whose last blob to us came through the server (the one heard from least recently is forgotten). */
  readonly #viaServer = new BoundedMap<string, true>(MAX_REMEMBERED)

  /** `viaMesh` returns false when the mesh cannot carry it now (no neighbour). */
  constructor(localId: string, viaMesh: (to: string, blob: Record<string, unknown>) => boolean) {
    this.localId = localId
    this.#viaMesh = viaMesh
  }

  /** Uses `server` as the fallback path until it is detached. */
  attachServer(server: Signaler | undefined): void {
    this.#offServer?.()
    this.#server = server
    const offSignal = server?.on('signal', (from, data) => {
      this.#viaServer.set(from, true)
      this.#events.emit('signal', from, data)
    })
    const offUnreachable = server?.on('unreachable', (id) => this.#events.emit('unreachable', id))
    this.#offServer = () => {
      offSignal?.()
      offUnreachable?.()
    }
  }

  sendSignal(to: string, data: unknown): void {
    const blob = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined
    const server = this.#liveServer()
    const answerViaServer = server !== undefined && this.#viaServer.has(to)
    if (blob !== undefined && !answerViaServer && this.#viaMesh(to, blob)) {
      this.counts.mesh++
      return
    }
    if (server !== undefined) {
      this.counts.server++
      server.sendSignal(to, data)
      return
    }
    this.counts.dropped++
  }

  /** The server signaler, unless it reports itself closed (SignalingClient has a `state`). */
  #liveServer(): Signaler | undefined {
    const server = this.#server as (Signaler & { readonly state?: string }) | undefined
    return server?.state === 'closed' ? undefined : server
  }

  /**
   * Sends the blobs for `to` through the server until one comes back through the mesh: for a
   * dial to a node the mesh does not reach (the reach check's link across a cut).
   */
  viaServer(to: string): void {
    this.#viaServer.set(to, true)
  }

  /** A blob routed to us through the mesh. */
  receive(from: string, blob: Record<string, unknown>): void {
    this.#viaServer.delete(from)
    this.#events.emit('signal', from, blob)
  }

  on<K extends keyof SignalerEvents>(event: K, fn: (...args: SignalerEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }
}
