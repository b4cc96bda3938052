import { MeshError, type P2PError } from '../errors.js'
import type { Network } from '../transport/types.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { Candidates } from './candidates.js'
import type { PeerTable } from './peer-table.js'

export interface DialerLimits {
  /** Links this node dials and keeps. */
  maxOutgoing: number
  /** Dial candidates remembered. */
  maxCandidates: number
  /** How often maintenance runs when nothing triggers it. */
  maintainIntervalMs: number
  /** A node with no peer asks the network for more ids at most this often. */
  rediscoverMs: number
}

export interface DialerHost {
  readonly localId: string
  readonly network: Network
  readonly table: PeerTable
  readonly clock: Clock
  readonly random: () => number
  report(err: P2PError): void
  /** The node has no link, is dialling nobody and has nobody to dial: it is alone for now. */
  alone(): void
}

/**
 * Keeps `maxOutgoing` links dialled: candidates come from the bootstrap sample, peer exchange and
 * (when the node is alone) the network's discovery; a failed dial makes its node wait out a
 * backoff. Dials stop at the transport's connection budget, which is reported once.
 */
export class Dialer {
  readonly candidates: Candidates
  readonly #host: DialerHost
  readonly #limits: DialerLimits
  readonly #dialing = new Set<string>()
  #timer: TimerHandle | undefined
  #stopped = false
  #budgetReported = false
  /** The bootstrap sample is fresh at start: the first ask waits a full interval. */
  #nextDiscovery: number
  #discovering = false

  constructor(host: DialerHost, limits: DialerLimits) {
    this.#host = host
    this.#limits = limits
    this.candidates = new Candidates(limits.maxCandidates, host.random)
    this.#nextDiscovery = host.clock.now() + limits.rediscoverMs
    const { table } = host
    table.on('linked', (id) => this.candidates.succeeded(id))
    table.on('link-closed', (peer, reason) => {
      const id = peer.remoteId
      // A link we dialled that ended with an error (refused, handshake failed, died) makes its
      // node wait out a backoff before we dial it again: no tight redial loop burning connections.
      if (id !== undefined && peer.outgoing && reason !== undefined) this.candidates.failed(id, host.clock.now())
      if (id !== undefined && reason instanceof MeshError && reason.code === 'SUBNET_MISMATCH') this.candidates.forget(id)
      this.schedule(0)
    })
  }

  /** Learns of nodes to dial (bootstrap sample, a neighbour's peer list). */
  learn(ids: Iterable<string>): void {
    const now = this.#host.clock.now()
    for (const id of ids) if (id !== this.#host.localId) this.candidates.add(id, now)
  }

  stop(): void {
    this.#stopped = true
    this.#host.clock.clearTimeout(this.#timer)
  }

  schedule(ms: number): void {
    if (this.#stopped) return
    this.#host.clock.clearTimeout(this.#timer)
    this.#timer = this.#host.clock.setTimeout(() => this.maintain(), ms)
  }

  /** Dials candidates until `maxOutgoing` outgoing links exist or are being made. */
  maintain(): void {
    if (this.#stopped) return
    const { table, clock } = this.#host
    const now = clock.now()
    let outgoing = this.#dialing.size
    for (const l of table.links) if (l.outgoing) outgoing++
    const taken = new Set<string | undefined>([this.#host.localId, ...this.#dialing, ...[...table.links].map((l) => l.remoteId)])
    while (outgoing < this.#limits.maxOutgoing) {
      if (this.#budgetLeft() <= 0) {
        if (!this.#budgetReported) this.#host.report(new MeshError('CONNECTION_BUDGET', 'the transport has no connections left: not dialling'))
        this.#budgetReported = true
        break
      }
      const id = this.candidates.pick(now, (c) => !taken.has(c))
      if (id === undefined) break
      taken.add(id)
      outgoing++
      this.#dial(id)
    }
    if (table.peers.size === 0 && this.#dialing.size === 0 && table.links.size === 0) this.#host.alone()
    // No peer: ask the network for the subnet's nodes every rediscoverMs, dials in flight or not
    // (the candidates may all be gone: a dial to a vanished node waits out its timeout).
    if (table.peers.size === 0) this.#rediscover(now)
    const next = this.candidates.nextAttemptAt(now)
    this.schedule(Math.max(this.#limits.maintainIntervalMs, next === undefined ? 0 : next - now))
  }

  /**
   * Opens a link to `id` now, beyond `maxOutgoing`. Resolves when `id` is a peer; rejects with
   * the dial's or the handshake's error, CONNECTION_BUDGET at once past the transport's budget.
   */
  connect(id: string, closed: () => boolean): Promise<void> {
    const { table, network } = this.#host
    if (table.peers.has(id)) return Promise.resolve()
    if (this.#budgetLeft() <= 0) throw new MeshError('CONNECTION_BUDGET', 'the transport has no connections left')
    return network.transport.dial(id).then((link) => {
      if (closed()) {
        void link.close()
        throw new MeshError('MESH_CLOSED', 'the mesh socket closed while connecting')
      }
      return new Promise<void>((resolve, reject) => {
        const offPeer = table.on('peer', (p) => {
          if (p !== id) return
          offPeer()
          resolve()
        })
        table.adopt(link, true).on('closed', (reason) => {
          offPeer()
          if (table.peers.has(id)) resolve()
          else reject(reason ?? new MeshError('HANDSHAKE_FAILED', `link to ${id} closed during the handshake`, { peerId: id }))
        })
      })
    })
  }

  #budgetLeft(): number {
    return this.#host.network.transport.connectionsLeft ?? Number.POSITIVE_INFINITY
  }

  #dial(id: string): void {
    const { network, table, clock } = this.#host
    this.#dialing.add(id)
    network.transport.dial(id).then(
      (link) => {
        this.#dialing.delete(id)
        if (this.#stopped) return void link.close()
        table.adopt(link, true)
      },
      () => {
        this.#dialing.delete(id)
        this.dialFailures++
        this.candidates.failed(id, clock.now())
        this.schedule(0)
      },
    )
  }

  /** Dials that failed (the candidate is retried after a backoff). */
  dialFailures = 0

  /** The network is back (signaling server reconnected): a node without peers asks for nodes at once. */
  online(): void {
    if (this.#host.table.peers.size > 0) return
    this.#nextDiscovery = 0
    this.schedule(0)
  }

  /** No peer: ask the network for the subnet's nodes again (the signaling server), at most every rediscoverMs. */
  #rediscover(now: number): void {
    const discover = this.#host.network.discover
    if (discover === undefined || this.#discovering || now < this.#nextDiscovery) return
    this.#discovering = true
    this.#nextDiscovery = now + this.#limits.rediscoverMs
    discover.call(this.#host.network).then(
      (ids) => {
        this.#discovering = false
        this.learn(ids)
        if (ids.length > 0) this.schedule(0)
      },
      () => {
        this.#discovering = false // offline: the next pass after rediscoverMs tries again
      },
    )
  }
}
