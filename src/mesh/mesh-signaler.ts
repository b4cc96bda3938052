import { Emitter } from '../util/emitter.js'
import type { Signaler, SignalerEvents } from '../transport/types.js'

/**
 * Peer-assisted signaling: the signaler a MeshSocket hands its WebRTC transport. While the node
 * has no neighbour, blobs go through the signaling server; once it has one, they are routed
 * through the mesh (`viaMesh`), so the server is only needed to bootstrap. Blobs arriving from
 * either path are emitted as 'signal'.
 */
export class MeshSignaler implements Signaler {
  readonly localId: string
  readonly #events = new Emitter<SignalerEvents>()
  readonly #viaMesh: (to: string, blob: Record<string, unknown>) => boolean
  #server: Signaler | undefined
  #offServer: (() => void) | undefined
  /** Blobs sent through the mesh and through the server (for stats and tests). */
  readonly counts = { mesh: 0, server: 0, dropped: 0 }

  /** `viaMesh` returns false when the mesh cannot carry it now (no neighbour). */
  constructor(localId: string, viaMesh: (to: string, blob: Record<string, unknown>) => boolean) {
    this.localId = localId
    this.#viaMesh = viaMesh
  }

  /** Uses `server` as the fallback path until it is detached. */
  attachServer(server: Signaler | undefined): void {
    this.#offServer?.()
    this.#server = server
    this.#offServer = server?.on('signal', (from, data) => this.#events.emit('signal', from, data))
  }

  sendSignal(to: string, data: unknown): void {
    const blob = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined
    if (blob !== undefined && this.#viaMesh(to, blob)) {
      this.counts.mesh++
      return
    }
    if (this.#server !== undefined) {
      this.counts.server++
      this.#server.sendSignal(to, data)
      return
    }
    this.counts.dropped++
  }

  /** A blob routed to us through the mesh. */
  receive(from: string, blob: Record<string, unknown>): void {
    this.#events.emit('signal', from, blob)
  }

  on<K extends keyof SignalerEvents>(event: K, fn: (...args: SignalerEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }
}
