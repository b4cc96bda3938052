import type SimplePeerNs from 'simple-peer'
import SimplePeer from 'simple-peer/simplepeer.min.js'
import { P2PError, TransportError } from '../../errors.js'
import { Emitter } from '../../util/emitter.js'
import type { Link, Signaler, Transport, TransportEvents } from '../types.js'
import { WEBRTC_LINK_DEFAULTS, WebRtcLink, type WebRtcLinkLimits } from './webrtc-link.js'

/** The WebRTC implementation for environments without a global one (Node: `@roamhq/wrtc`). */
export interface WrtcImplementation {
  RTCPeerConnection: typeof RTCPeerConnection
  RTCSessionDescription: typeof RTCSessionDescription
  RTCIceCandidate: typeof RTCIceCandidate
}

export interface WebRtcTransportOptions {
  /** Carries signal blobs: the signaling client at bootstrap, the mesh later. */
  signaler: Signaler
  /** STUN/TURN servers. Default: none (host candidates only). Never defaults to a public host. */
  iceServers?: RTCIceServer[]
  /** A WebRTC implementation for Node (`import wrtc from '@roamhq/wrtc'`); browsers use their own. */
  wrtc?: WrtcImplementation
  /** Give up on a dial after this long (default 20 s). */
  dialTimeoutMs?: number
  /** Incoming connection attempts being negotiated at once; more offers are ignored (default 16). */
  maxPendingIncoming?: number
  /** Per-link limits (chunk size, message cap, buffer bound, close timeout). */
  link?: Partial<WebRtcLinkLimits>
  /**
   * Never create a peer connection once the page has created this many (`pageConnectionsCreated()`;
   * Chromium allows 500 over a page's life): dials reject DIAL_FAILED, offers are ignored. Default: no limit.
   */
  connectionBudget?: number
}

export const WEBRTC_TRANSPORT_DEFAULTS = Object.freeze({ dialTimeoutMs: 20_000, maxPendingIncoming: 16 })

/** Signal envelope: which connection attempt (`s`) a simple-peer blob (`d`) belongs to. */
type Envelope = { v: 1; s: string; d: SimplePeerNs.SignalData }

const SIGNAL_TYPES = new Set(['offer', 'answer', 'candidate', 'renegotiate', 'transceiverRequest'])
const MAX_SESSION_ID = 64

function parseEnvelope(data: unknown): Envelope | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const { v, s, d } = data as Record<string, unknown>
  if (v !== 1 || typeof s !== 'string' || s.length === 0 || s.length > MAX_SESSION_ID) return undefined
  if (typeof d !== 'object' || d === null) return undefined
  const type = (d as { type?: unknown }).type
  if (typeof type !== 'string' || !SIGNAL_TYPES.has(type)) return undefined
  return { v, s, d: d as SimplePeerNs.SignalData }
}

function randomSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

type Session = { peer: SimplePeerNs.Instance; link: WebRtcLink; incoming: boolean }

let linkCounter = 0

/**
 * RTCPeerConnections created by every WebRtcTransport in this page (or process) so far.
 * Chromium allows a page 500 over its lifetime; MeshSocket keeps under its `connectionBudget`.
 * Module state on purpose: the cap is per page, whatever number of transports share it.
 */
let pageConnections = 0
export function pageConnectionsCreated(): number {
  return pageConnections
}

/**
 * Makes WebRTC links with simple-peer. Each link is one RTCPeerConnection with one data channel;
 * each connection attempt has its own session id, so two nodes may have several attempts in
 * flight (both dialling at once, a redial while an old link lingers) without mixing signals.
 */
export class WebRtcTransport implements Transport {
  readonly localId: string
  readonly #signaler: Signaler
  readonly #iceServers: RTCIceServer[]
  readonly #wrtc: WrtcImplementation | undefined
  readonly #dialTimeoutMs: number
  readonly #maxPendingIncoming: number
  readonly #linkLimits: WebRtcLinkLimits
  readonly #budget: number
  readonly #events = new Emitter<TransportEvents>()
  readonly #sessions = new Map<string, Session>()
  readonly #offSignal: () => void
  #created = 0
  #closed: Promise<void> | undefined

  constructor(options: WebRtcTransportOptions) {
    this.#signaler = options.signaler
    this.localId = options.signaler.localId
    this.#iceServers = [...(options.iceServers ?? [])]
    this.#wrtc = options.wrtc
    this.#dialTimeoutMs = options.dialTimeoutMs ?? WEBRTC_TRANSPORT_DEFAULTS.dialTimeoutMs
    this.#maxPendingIncoming = options.maxPendingIncoming ?? WEBRTC_TRANSPORT_DEFAULTS.maxPendingIncoming
    this.#linkLimits = { ...WEBRTC_LINK_DEFAULTS, ...options.link }
    this.#budget = options.connectionBudget ?? Number.POSITIVE_INFINITY
    const l = this.#linkLimits
    if (!(l.chunkBytes >= 64 && l.maxMessageBytes >= 0 && l.highWaterMark >= 0 && l.closeTimeoutMs >= 0 && this.#dialTimeoutMs >= 0)) {
      throw new TransportError('INVALID_OPTION', 'invalid WebRtcTransport limits (chunkBytes >= 64, the others >= 0)')
    }
    this.#offSignal = this.#signaler.on('signal', (from, data) => this.#onSignal(from, data))
  }

  /** RTCPeerConnections this transport has created so far (Chromium caps a page's lifetime total at 500). */
  get connectionsCreated(): number {
    return this.#created
  }

  /** Peer connections this transport may still create before the page reaches `connectionBudget`. */
  get connectionsLeft(): number {
    return Math.max(0, this.#budget - pageConnections)
  }

  /** Connection attempts and links currently alive. */
  get activeConnections(): number {
    return this.#sessions.size
  }

  /** The RTCConfiguration given to every peer connection (for inspection). */
  get rtcConfig(): RTCConfiguration {
    return { iceServers: this.#iceServers.map((s) => ({ ...s })) }
  }

  async dial(remoteId: string, options: { signal?: AbortSignal } = {}): Promise<Link> {
    if (this.#closed !== undefined) throw new TransportError('TRANSPORT_CLOSED', 'transport is closed')
    if (remoteId === this.localId) throw new TransportError('DIAL_FAILED', 'a node cannot dial itself')
    const { signal } = options
    if (signal?.aborted === true) throw new TransportError('DIAL_FAILED', `dial to ${remoteId} aborted`, { cause: signal.reason })
    if (pageConnections >= this.#budget) {
      throw new TransportError('DIAL_FAILED', `the page has created ${pageConnections} peer connections: budget of ${this.#budget} reached`)
    }
    const sessionId = randomSessionId()
    const { link } = this.#open(remoteId, sessionId, true)
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    let offUnreachable: (() => void) | undefined
    const failed = new Promise<never>((_, reject) => {
      // The signaling server does not know the node: no answer will come, fail now.
      offUnreachable = this.#signaler.on('unreachable', (id) => {
        if (id === remoteId) reject(new TransportError('PEER_UNREACHABLE', `${remoteId} is not connected to the signaling server`))
      })
      timer = setTimeout(
        () => reject(new TransportError('DIAL_TIMEOUT', `no connection to ${remoteId} within ${this.#dialTimeoutMs} ms`)),
        this.#dialTimeoutMs,
      )
      onAbort = () => reject(new TransportError('DIAL_FAILED', `dial to ${remoteId} aborted`, { cause: signal?.reason }))
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      await Promise.race([link.opened(), failed])
      return link
    } catch (err: unknown) {
      void link.close()
      if (err instanceof P2PError && err.code !== 'LINK_CLOSED') throw err
      throw new TransportError('DIAL_FAILED', `could not connect to ${remoteId}`, { cause: err })
    } finally {
      clearTimeout(timer)
      offUnreachable?.()
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
  }

  on<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  /** Idempotent: stops accepting, closes every link and attempt. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#offSignal()
      await Promise.all([...this.#sessions.values()].map((s) => s.link.close()))
      this.#events.removeAll()
    })()
    return this.#closed
  }

  #open(remoteId: string, sessionId: string, initiator: boolean): Session {
    const key = `${remoteId}|${sessionId}`
    const peerOptions: SimplePeerNs.Options = {
      initiator,
      trickle: true,
      // Always explicit: simple-peer's own default lists public STUN servers.
      config: { iceServers: this.#iceServers.map((s) => ({ ...s })) },
    }
    if (this.#wrtc !== undefined) peerOptions.wrtc = this.#wrtc
    let peer: SimplePeerNs.Instance
    try {
      peer = new SimplePeer(peerOptions)
    } catch (err: unknown) {
      throw new TransportError('WEBRTC_UNAVAILABLE', 'no WebRTC implementation: pass `wrtc` in Node', { cause: err })
    }
    this.#created++
    pageConnections++
    const link = new WebRtcLink(peer, { id: `webrtc-${++linkCounter}`, remoteId, limits: this.#linkLimits })
    const session: Session = { peer, link, incoming: !initiator }
    this.#sessions.set(key, session)
    peer.on('signal', (data: SimplePeerNs.SignalData) => {
      try {
        this.#signaler.sendSignal(remoteId, { v: 1, s: sessionId, d: data } satisfies Envelope)
      } catch {
        void link.close() // the signaling path is gone or refused the blob: this attempt cannot finish
      }
    })
    link.on('close', () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key)
    })
    return session
  }

  #onSignal(from: string, data: unknown): void {
    if (this.#closed !== undefined) return
    const envelope = parseEnvelope(data)
    if (envelope === undefined) return
    const existing = this.#sessions.get(`${from}|${envelope.s}`)
    if (existing !== undefined) {
      this.#feed(existing, envelope.d)
      return
    }
    if (envelope.d.type !== 'offer' || from === this.localId) return
    let incoming = 0
    for (const s of this.#sessions.values()) if (s.incoming && s.link.state === 'connecting') incoming++
    if (incoming >= this.#maxPendingIncoming || pageConnections >= this.#budget) return
    let session: Session
    try {
      session = this.#open(from, envelope.s, false)
    } catch (err: unknown) {
      this.#events.emit('error', err instanceof P2PError ? err : new TransportError('LINK_FAILED', 'incoming connection failed', { cause: err }))
      return
    }
    const timer = setTimeout(() => void session.link.close(), this.#dialTimeoutMs)
    session.link.opened().then(
      () => {
        clearTimeout(timer)
        this.#events.emit('link', session.link)
      },
      () => clearTimeout(timer),
    )
    this.#feed(session, envelope.d)
  }

  #feed(session: Session, data: SimplePeerNs.SignalData): void {
    try {
      session.peer.signal(data)
    } catch {
      void session.link.close() // a malformed blob: this attempt cannot succeed
    }
  }
}
