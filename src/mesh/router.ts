import { BoundedMap } from '../util/bounded-map.js'
import { binaryKey } from '../util/bytes.js'
import { perWindow, TokenBucket } from '../util/token-bucket.js'
import type { DecodedFrame } from '../wire/frame.js'
import type { MeshMessage, ProtocolWire } from './messages.js'
import type { PeerLink } from './peer-link.js'
import { SeenCache, type SeenCacheLimits } from './seen-cache.js'

/** What the router needs from the socket around it. */
export interface RouterHost {
  readonly localId: string
  now(): number
  /** Neighbours whose handshake is complete. */
  neighbours(): Iterable<PeerLink>
  neighbour(id: string): PeerLink | undefined
  /** A flooded or routed protocol message for this node, that arrived on `from`. */
  deliver(message: ProtocolWire, frame: DecodedFrame, from: PeerLink): void
  signal(from: string, blob: Record<string, unknown>): void
}

export interface RouterLimits {
  seen: Partial<SeenCacheLimits>
  /** Reverse-path entries kept (origin → the link its messages arrived on). */
  maxRoutes: number
  /** A route older than this is not trusted any more (ms). */
  routeTtlMs: number
  /** WebRTC signal blobs relayed for one origin per minute; more are dropped (counted). */
  maxSignalRelaysPerMinute: number
}

export const ROUTER_DEFAULTS: Readonly<RouterLimits> = Object.freeze({ seen: {}, maxRoutes: 4096, routeTtlMs: 5 * 60_000, maxSignalRelaysPerMinute: 60 })

export interface RouterStats {
  /** Messages this node originated (broadcasts and routed messages). */
  originated: number
  /** Frames relayed to a neighbour on behalf of someone else. */
  relayed: number
  /** Copies of an already-seen message that arrived and were dropped (never delivered twice). */
  duplicates: number
  /** Messages delivered to this node's application. */
  delivered: number
  /** Signal blobs for others not relayed: their origin was over maxSignalRelaysPerMinute. */
  signalsDropped: number
}

/**
 * Flooding and routing (pure logic over PeerLinks, no timers).
 *
 * - A broadcast is relayed once, before local delivery, to every neighbour except the one it
 *   came from and its origin; a message id seen before is dropped. Dedup is by message id alone
 *   and its memory is the receiver's clock (SeenCache), not the sender's timestamp.
 * - Every flooded or routed message teaches "origin is reachable through this link" (reverse
 *   path learning). A routed message (whisper or WebRTC signal to a non-neighbour) goes straight
 *   to the target if it is a neighbour, else along a learned route, else is flooded; each node
 *   forwards a given id at most once, so stale routes cannot loop. Replies therefore follow the
 *   path the request came by.
 */
export class Router {
  readonly #host: RouterHost
  readonly #limits: RouterLimits
  readonly seen: SeenCache
  readonly #routes: BoundedMap<string, { link: PeerLink; at: number }>
  readonly stats: RouterStats = { originated: 0, relayed: 0, duplicates: 0, delivered: 0, signalsDropped: 0 }
  /** Per origin: a bucket of maxSignalRelaysPerMinute signal relays, refilled over a minute (bounded like the routes). */
  readonly #signalRelays: BoundedMap<string, TokenBucket>

  constructor(host: RouterHost, limits: Partial<RouterLimits> = {}) {
    this.#host = host
    this.#limits = { ...ROUTER_DEFAULTS, ...limits }
    this.seen = new SeenCache(this.#limits.seen)
    this.#routes = new BoundedMap(this.#limits.maxRoutes)
    this.#signalRelays = new BoundedMap(this.#limits.maxRoutes)
  }

  /** Sends our own broadcast body to every neighbour (`urgent`: on the links' urgent lane). */
  broadcast(body: Uint8Array, id: Uint8Array, urgent = false): Promise<void> {
    this.seen.add(binaryKey(id), this.#host.now())
    this.stats.originated++
    return this.#toAll(body, undefined, undefined, urgent)
  }

  /** Sends our own routed message (to a non-neighbour, or a reply) towards `target`. */
  route(body: Uint8Array, id: Uint8Array, target: string, urgent: boolean): Promise<void> {
    this.seen.add(binaryKey(id), this.#host.now())
    this.stats.originated++
    return this.#towards(target, body, undefined, urgent)
  }

  /** Handles a message that arrived on `from`. Handshakes and keepalives are the socket's. */
  receive(from: PeerLink, message: MeshMessage, frame: DecodedFrame): void {
    switch (message.kind) {
      case 'broadcast': {
        if (!this.#firstSight(frame, from)) return
        void this.#toAll(frame.body, from, frame.sender, message.claim?.claim.urgent === true)
        this.stats.delivered++
        this.#host.deliver(message, frame, from)
        return
      }
      case 'routed-whisper':
      case 'routed-signal': {
        if (!this.#firstSight(frame, from)) return
        if (message.target !== this.#host.localId) {
          if (message.kind === 'routed-signal' && !this.#mayRelaySignal(frame.sender)) return
          const urgent = message.kind === 'routed-signal' || message.claim?.claim.urgent === true
          void this.#towards(message.target, frame.body, from, urgent)
          return
        }
        if (message.kind === 'routed-signal') return this.#host.signal(frame.sender, message.blob)
        this.stats.delivered++
        this.#host.deliver(message, frame, from)
        return
      }
      default:
        return
    }
  }

  /** Whether a message id arriving on a link was handled before (counted as a duplicate if so). */
  seenBefore(id: Uint8Array): boolean {
    if (!this.seen.has(binaryKey(id), this.#host.now())) return false
    this.stats.duplicates++
    return true
  }

  /** The neighbour that last brought us a message from `origin`, if still usable. */
  nextHop(origin: string): PeerLink | undefined {
    const route = this.#routes.get(origin)
    if (route === undefined) return undefined
    if (route.link.state !== 'ready' || this.#host.now() - route.at > this.#limits.routeTtlMs) {
      this.#routes.delete(origin)
      return undefined
    }
    return route.link
  }

  #firstSight(frame: DecodedFrame, from: PeerLink): boolean {
    if (!this.seen.add(binaryKey(frame.id), this.#host.now())) {
      this.stats.duplicates++
      return false
    }
    if (frame.sender !== this.#host.localId) this.#learn(frame.sender, from)
    return true
  }

  /** Relaying WebRTC negotiations for others costs them nothing: at most N per origin per minute. */
  #mayRelaySignal(origin: string): boolean {
    const now = this.#host.now()
    let bucket = this.#signalRelays.get(origin)
    if (bucket === undefined) {
      bucket = new TokenBucket(perWindow(this.#limits.maxSignalRelaysPerMinute, 60_000), now)
      this.#signalRelays.set(origin, bucket)
    }
    if (bucket.take(now)) return true
    this.stats.signalsDropped++
    return false
  }

  #learn(origin: string, link: PeerLink): void {
    this.#routes.set(origin, { link, at: this.#host.now() }) // newest last: the oldest goes past maxRoutes
  }

  #towards(target: string, body: Uint8Array, from: PeerLink | undefined, urgent: boolean): Promise<void> {
    const hop = this.#host.neighbour(target) ?? this.nextHop(target)
    if (hop !== undefined && hop !== from) {
      if (from !== undefined) this.stats.relayed++
      return hop.forward(body, urgent)
    }
    return this.#toAll(body, from, undefined, urgent)
  }

  #toAll(body: Uint8Array, except: PeerLink | undefined, origin: string | undefined, urgent = false): Promise<void> {
    const sends: Promise<void>[] = []
    const shared = {} // the body framed once for every link that sends it raw
    for (const link of this.#host.neighbours()) {
      if (link === except || (origin !== undefined && link.remoteId === origin)) continue
      if (except !== undefined) this.stats.relayed++
      sends.push(link.forward(body, urgent, shared))
    }
    // Relays: nobody waits on them (failed sends surface as link closes).
    if (except !== undefined || sends.length === 0) return RESOLVED
    return Promise.all(sends).then(() => {})
  }
}

const RESOLVED = Promise.resolve()
