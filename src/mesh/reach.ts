import { BoundedMap } from '../util/bounded-map.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { FLAGS } from '../wire/flags.js'
import type { MeshPort, MeshProtocol, MessageClaim, ProtocolMessage } from './protocol.js'

/**
 * The reach check: joins a mesh that was cut into parts which each stayed linked.
 *
 * A node keeps its `maxOutgoing` dialled links and dials more only when it loses one, and once it
 * has a neighbour its WebRTC negotiations travel through the mesh. So when a network fault cuts
 * the mesh into parts that each still hold together, nothing in them ever dials across again,
 * and a dial across would fail anyway: its signals cannot reach the other part.
 *
 * Every `reachCheckMs` (± half, so nodes do not act in step) a node with peers asks the network
 * (the signaling server) for a sample of the subnet, picks one node it has no link to, and sends it
 * a routed ping (forward, sub flag 0x03, a nonce) through the mesh. A node that gets one answers
 * with a routed pong (forward, sub 0x04, the same nonce). If no pong comes within
 * `reachTimeoutMs`, the node is not reachable through the mesh: this node links to it directly,
 * its negotiation going through the signaling server. One node at a time; a node that could not be
 * linked is not picked again for 5 checks. In a whole mesh the pong comes back and no link is made.
 */
export const REACH_FLAGS = Object.freeze({ ping: FLAGS.ping, pong: FLAGS.pong })

/** Checks a node that could not be linked is skipped for. */
export const REACH_SKIP_CHECKS = 5
/** Connections the check leaves to the dialler's own repairs: it never spends the last ones. */
export const REACH_RESERVED_CONNECTIONS = 8
/** Nodes remembered as "could not be linked". */
const MAX_SKIPPED = 256

export interface ReachLimits {
  /** How often a node with peers checks one random node of the subnet. 0 turns the check off. */
  reachCheckMs: number
  /** How long a ping waits for its pong before the node is taken for unreachable. */
  reachTimeoutMs: number
}

export interface ReachHost {
  readonly clock: Clock
  readonly random: () => number
  /** A sample of the subnet's nodes (the signaling server's); undefined when the network has no discovery. */
  discover: (() => Promise<string[]>) | undefined
  /** Links to `id` beyond maxOutgoing, negotiating through the signaling server. Resolves when it is a peer. */
  bridge(id: string): Promise<void>
  /** Connections the transport has left. */
  connectionsLeft(): number
}

export interface ReachStats {
  /** Routed pings sent to check that a node of the subnet is reachable through the mesh. */
  reachChecks: number
  /** Links opened because a ping went unanswered: parts of the mesh joined. */
  bridges: number
}

function decodeNonce(items: unknown[]): number {
  const [nonce] = items
  if (items.length !== 1 || typeof nonce !== 'number' || !Number.isSafeInteger(nonce) || nonce < 0) throw new TypeError('a reach check carries one nonce')
  return nonce
}

export const REACH_CLAIMS: readonly MessageClaim<number>[] = [
  { route: 'routed', sub: REACH_FLAGS.ping, decode: decodeNonce, urgent: true },
  { route: 'routed', sub: REACH_FLAGS.pong, decode: decodeNonce, urgent: true },
]

/**
 * The node to check: one of `sample` that is not this node, not a neighbour and not skipped.
 * Pure: `random` picks among them.
 */
export function pickUnlinked(sample: readonly string[], self: string, neighbours: ReadonlySet<string>, skip: (id: string) => boolean, random: () => number): string | undefined {
  const open = [...new Set(sample)].filter((id) => id !== self && !neighbours.has(id) && !skip(id))
  return open.length === 0 ? undefined : open[Math.floor(random() * open.length)]
}

/** The reach check as a protocol on the mesh's seam (it claims routed 0x03 and 0x04). */
export class ReachCheck implements MeshProtocol<number> {
  readonly name = 'reach'
  readonly claims = REACH_CLAIMS
  readonly stats: ReachStats = { reachChecks: 0, bridges: 0 }
  readonly #limits: ReachLimits
  #port: MeshPort | undefined
  #host: ReachHost | undefined
  #timer: TimerHandle | undefined
  #pending: { target: string; nonce: number; timer: TimerHandle } | undefined
  /** Nodes that could not be linked → when they may be picked again. */
  readonly #skipped = new BoundedMap<string, number>(MAX_SKIPPED)
  #stopped = false

  constructor(limits: ReachLimits) {
    this.#limits = limits
  }

  /** Starts checking (once the mesh is started); nothing happens with reachCheckMs 0. */
  start(port: MeshPort, host: ReachHost): void {
    this.#port = port
    this.#host = host
    this.#next()
  }

  stop(): void {
    this.#stopped = true
    this.#host?.clock.clearTimeout(this.#timer)
    if (this.#pending !== undefined) this.#host?.clock.clearTimeout(this.#pending.timer)
    this.#pending = undefined
  }

  onMessage(m: ProtocolMessage<number>): void {
    if (m.sub === REACH_FLAGS.ping) {
      if (this.#port !== undefined && !this.#stopped) void this.#port.routed(m.origin, REACH_FLAGS.pong, m.value).catch(() => {})
      return
    }
    const pending = this.#pending
    if (pending === undefined || m.origin !== pending.target || m.value !== pending.nonce) return
    this.#host!.clock.clearTimeout(pending.timer)
    this.#pending = undefined
  }

  #next(): void {
    const host = this.#host!
    const every = this.#limits.reachCheckMs
    if (this.#stopped || every <= 0 || host.discover === undefined) return
    this.#timer = host.clock.setTimeout(() => void this.#check(), every * (0.5 + host.random()))
  }

  async #check(): Promise<void> {
    const host = this.#host!
    const port = this.#port!
    try {
      if (this.#pending !== undefined || port.peers.length === 0) return
      const sample = await host.discover!()
      if (this.#stopped || this.#pending !== undefined) return
      const now = host.clock.now()
      const target = pickUnlinked(sample, port.id, new Set(port.peers), (id) => (this.#skipped.get(id) ?? 0) > now, host.random)
      if (target === undefined) return
      const nonce = Math.floor(host.random() * 2 ** 32)
      const timer = host.clock.setTimeout(() => this.#unanswered(target, nonce), this.#limits.reachTimeoutMs)
      this.#pending = { target, nonce, timer }
      this.stats.reachChecks++
      await port.routed(target, REACH_FLAGS.ping, nonce)
    } catch {
      // Discovery failed (the server is offline) or the mesh closed: try again next period.
    } finally {
      this.#next()
    }
  }

  /** No pong: the mesh does not reach `target`; link to it, unless it became a neighbour meanwhile. */
  #unanswered(target: string, nonce: number): void {
    const host = this.#host!
    const port = this.#port!
    if (this.#pending?.nonce !== nonce || this.#stopped) return
    this.#pending = undefined
    if (port.peers.includes(target)) return
    if (host.connectionsLeft() <= REACH_RESERVED_CONNECTIONS) return
    const skip = (): void => void this.#skipped.set(target, host.clock.now() + REACH_SKIP_CHECKS * this.#limits.reachCheckMs)
    // A failed link (refused, timed out, the budget spent) is not an error of the application's:
    // the node is skipped for a while and the check goes on.
    let bridged: Promise<void>
    try {
      bridged = host.bridge(target)
    } catch {
      return skip()
    }
    bridged.then(
      () => void this.stats.bridges++,
      () => skip(),
    )
  }
}
