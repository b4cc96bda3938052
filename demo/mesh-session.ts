import { Identity, MeshSocket, type ReceivedMessage } from 'p2p-today'
import type { MeshTuning } from './config.js'
import { errorCode, errorDetail } from './errors.js'
import { Topology, parseTopology, topologyPayload, type GraphView } from './topology.js'

/** How often each node announces its peer list to the whole mesh. */
export const ANNOUNCE_MS = 2_000

/** What the session tells the page. */
export interface SessionView {
  message(message: ReceivedMessage): void
  topology(view: GraphView): void
  /** Peers came or went (refresh counters now rather than at the next tick). */
  peers(ids: string[]): void
  /** A non-fatal problem the mesh reported (a peer timed out, a bad frame…). */
  problem(code: string, detail: string): void
  /** The signaling server was lost ('offline': links stay up, the socket reconnects by itself) or is back ('online'). */
  connection(state: 'online' | 'offline'): void
}

/**
 * One joined MeshSocket and what the demo runs on it: a consumer for topology announcements,
 * a periodic announcement of our own peers, and the page callbacks. close() undoes all of it.
 */
export class MeshSession {
  readonly mesh: MeshSocket
  readonly id: string
  readonly #topology: Topology
  readonly #view: SessionView
  readonly #now: () => number
  readonly #disposers: (() => void)[] = []
  #closing: Promise<void> | undefined

  /** Creates the socket with a fresh identity (so the id shows before the mesh is ready). Throws what MeshSocket throws. */
  static async join(options: { signaling: string; subnet: string } & MeshTuning, view: SessionView, now: () => number = Date.now): Promise<MeshSession> {
    const identity = await Identity.generate()
    return new MeshSession(new MeshSocket({ ...options, identity }), identity.id, view, now)
  }

  private constructor(mesh: MeshSocket, id: string, view: SessionView, now: () => number) {
    this.mesh = mesh
    this.id = id
    this.#view = view
    this.#now = now
    this.#topology = new Topology(id)
    this.#disposers.push(
      mesh.registerHandler((m) => this.#onAnnouncement(m)),
      mesh.on('message', (m) => {
        // The event gets every unconsumed message; recv() keeps a copy of each too, which this
        // page never reads: drain it so the queue does not fill up and count drops.
        mesh.recv(Number.MAX_SAFE_INTEGER)
        view.message(m)
      }),
      mesh.on('peer', () => this.#peersChanged()),
      mesh.on('peer-left', (id) => {
        this.#topology.forget(id)
        this.#peersChanged()
      }),
      mesh.on('error', (err) => view.problem(err.code, errorDetail(err))),
      mesh.on('offline', () => view.connection('offline')),
      mesh.on('online', () => view.connection('online')),
    )
    const timer = setInterval(() => this.#tick(), ANNOUNCE_MS)
    this.#disposers.push(() => clearInterval(timer))
    this.#redraw()
  }

  /** Resolves once the mesh has a peer or found itself alone; rejects with the start-up error. */
  ready(): Promise<void> {
    return this.mesh.ready()
  }

  /** Broadcasts a chat line. Rejects (or throws) with the mesh's error. */
  say(text: string): Promise<void> {
    return this.mesh.send(text)
  }

  /** Idempotent: stops the timers and listeners, closes the socket. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const dispose of this.#disposers.splice(0).reverse()) dispose()
      await this.mesh.close()
    })()
    return this.#closing
  }

  #onAnnouncement(m: ReceivedMessage): boolean {
    const peers = parseTopology(m.payload)
    if (peers === undefined) return false
    if (this.#topology.report(m.sender, peers, this.#now())) this.#redraw()
    return true
  }

  #peersChanged(): void {
    const peers = this.mesh.peers
    this.#view.peers(peers)
    this.#announce()
    this.#redraw()
  }

  #tick(): void {
    this.#topology.prune(this.#now())
    this.#announce()
    this.#redraw()
  }

  #announce(): void {
    const peers = this.mesh.peers
    if (peers.length === 0 || this.#closing !== undefined) return
    try {
      this.mesh.send(...topologyPayload(peers)).catch((err: unknown) => this.#view.problem(errorCode(err), errorDetail(err)))
    } catch (err: unknown) {
      this.#view.problem(errorCode(err), errorDetail(err))
    }
  }

  #redraw(): void {
    this.#topology.setPeers(this.mesh.peers)
    this.#view.topology(this.#topology.view())
  }
}
