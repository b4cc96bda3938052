import { BoundedMap } from '../util/bounded-map.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { isNodeId } from '../wire/base58.js'
import { FLAGS } from '../wire/flags.js'
import { isNonce } from './messages.js'
import type { MeshPort, MeshProtocol, MessageClaim, ProtocolMessage } from './protocol.js'

/**
 * The reach check: joins a mesh that was cut into parts which each stayed linked.
 *
 * A node keeps its `maxOutgoing` dialled links and dials more only when it loses one, and once it
 * has a neighbour its WebRTC negotiations travel through the mesh. So when a network fault cuts
 * the mesh into parts that each still hold together, nothing in them ever dials across again,
 * and a dial across would fail anyway: its signals cannot reach the other part.
 *
 * Every `reachCheckMs` (± half, so nodes do not act in step) a node with peers that has not heard
 * another node's probe since its last turn asks the network (the signaling server) for a sample
 * of the subnet, picks one node it has no link to, and floods a probe naming it (broadcast, sub
 * flag 0x03: target, nonce). Every node of the part hears the probe, and so skips its own next
 * turn (Trickle's suppression: about one probe per period in each part, whatever its size). The
 * target answers with a routed pong (forward, sub 0x04, the nonce). If no pong comes within
 * `reachTimeoutMs`, the target is not in this part: the node links to it directly, its
 * negotiation going through the signaling server. One probe at a time; a node that could not be
 * linked is not picked again for 5 turns.
 */
export const REACH_FLAGS = Object.freeze({ probe: FLAGS.ping, pong: FLAGS.pong })

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
  /** Probes this node flooded to check that a node of the subnet is reachable through the mesh. */
  reachChecks: number
  /** Links opened because a probe went unanswered: parts of the mesh joined. */
  bridges: number
}

/** A probe: who should answer, and the nonce to answer with; a pong: the nonce alone. */
export type ReachMessage = { target: string; nonce: number } | { nonce: number }

function decodeProbe(items: unknown[]): ReachMessage {
  const [target, nonce] = items
  if (items.length !== 2 || !isNodeId(target) || !isNonce(nonce)) throw new TypeError('a reach probe carries a node id and a nonce')
  return { target, nonce }
}

function decodePong(items: unknown[]): ReachMessage {
  const [nonce] = items
  if (items.length !== 1 || !isNonce(nonce)) throw new TypeError('a reach pong carries one nonce')
  return { nonce }
}

export const REACH_CLAIMS: readonly MessageClaim<ReachMessage>[] = [
  { route: 'broadcast', sub: REACH_FLAGS.probe, decode: decodeProbe, urgent: true },
  { route: 'routed', sub: REACH_FLAGS.pong, decode: decodePong, urgent: true },
]

/**
 * The node to check: one of `sample` that is not this node, not a neighbour and not skipped.
 * Pure: `random` picks among them.
 */
export function pickUnlinked(sample: readonly string[], self: string, neighbours: ReadonlySet<string>, skip: (id: string) => boolean, random: () => number): string | undefined {
  const open = [...new Set(sample)].filter((id) => id !== self && !neighbours.has(id) && !skip(id))
  return open.length === 0 ? undefined : open[Math.floor(random() * open.length)]
}

/** The reach check as a protocol on the mesh's seam (it claims broadcast 0x03 and routed 0x04). */
export class ReachCheck implements MeshProtocol<ReachMessage> {
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
  /** Another node's probe was heard since this node's last turn: skip the next one. */
  #heard = false
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

  onMessage(m: ProtocolMessage<ReachMessage>): void {
    const { value } = m
    if ('target' in value) {
      this.#heard = true
      if (this.#port !== undefined && !this.#stopped && value.target === this.#port.id) void this.#port.routed(m.origin, REACH_FLAGS.pong, value.nonce).catch(() => {})
      return
    }
    const pending = this.#pending
    if (pending === undefined || m.origin !== pending.target || value.nonce !== pending.nonce) return
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
      const heard = this.#heard
      this.#heard = false
      if (heard || this.#pending !== undefined || port.peers.length === 0) return
      const sample = await host.discover!()
      if (this.#stopped || this.#pending !== undefined) return
      const now = host.clock.now()
      const target = pickUnlinked(sample, port.id, new Set(port.peers), (id) => (this.#skipped.get(id) ?? 0) > now, host.random)
      if (target === undefined) return
      const nonce = Math.floor(host.random() * 2 ** 32)
      const timer = host.clock.setTimeout(() => this.#unanswered(target, nonce), this.#limits.reachTimeoutMs)
      this.#pending = { target, nonce, timer }
      this.stats.reachChecks++
      await port.broadcast(REACH_FLAGS.probe, target, nonce)
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
