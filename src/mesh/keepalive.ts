import { MeshError } from '../errors.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { PeerLink } from './peer-link.js'

export interface KeepaliveLimits {
  /** Ping a peer we have sent nothing to for this long. */
  keepaliveMs: number
  /** Drop a peer silent this long (PEER_TIMEOUT). */
  peerTimeoutMs: number
}

/**
 * Every `keepaliveMs`: drops peers silent for `peerTimeoutMs` (PEER_TIMEOUT) and pings the ones we
 * have been quiet to. If the timer itself ran late, our own thread was stalled (a busy page, a
 * huge message being decoded): messages from peers may be waiting unprocessed behind the stall,
 * so silence is not evidence that round. It pings, and judges on the next round.
 */
export class Keepalive {
  readonly #clock: Clock
  readonly #limits: KeepaliveLimits
  readonly #peers: () => Iterable<PeerLink>
  #timer: TimerHandle | undefined
  #nonce = 0
  #stopped = false

  constructor(clock: Clock, limits: KeepaliveLimits, peers: () => Iterable<PeerLink>) {
    this.#clock = clock
    this.#limits = limits
    this.#peers = peers
  }

  start(): void {
    if (this.#stopped) return
    const { keepaliveMs, peerTimeoutMs } = this.#limits
    const due = this.#clock.now() + keepaliveMs
    this.#timer = this.#clock.setTimeout(() => {
      const now = this.#clock.now()
      const stalled = now - due > keepaliveMs
      for (const peer of [...this.#peers()]) {
        if (!stalled && now - peer.lastHeard > peerTimeoutMs) {
          peer.fail(new MeshError('PEER_TIMEOUT', `nothing from ${peer.remoteId ?? '?'} for ${now - peer.lastHeard} ms`, { peerId: peer.remoteId }))
        } else if (now - peer.lastSent >= keepaliveMs) {
          void peer.send({ kind: 'ping', nonce: ++this.#nonce })
        }
      }
      this.start()
    }, keepaliveMs)
  }

  stop(): void {
    this.#stopped = true
    this.#clock.clearTimeout(this.#timer)
  }
}
