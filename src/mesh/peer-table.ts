import { MeshError, type P2PError } from '../errors.js'
import type { Link } from '../transport/types.js'
import { Emitter } from '../util/emitter.js'
import type { DecodedFrame } from '../wire/frame.js'
import type { MeshMessage } from './messages.js'
import { PeerLink, type PeerLinkContext } from './peer-link.js'

export type PeerTableEvents = {
  /** A link's handshake completed (kept or not: a node may have dialled us as we dialled it). */
  linked: [id: string]
  /** A neighbour's handshake completed (first link to it). */
  peer: [id: string]
  'peer-left': [id: string, reason: P2PError | undefined]
  /** Any link closed (handshake done or not); `peer.outgoing` says whether we dialled it. */
  'link-closed': [peer: PeerLink, reason: P2PError | undefined]
  'bad-frame': [err: MeshError]
  dropped: [why: 'stale' | 'rate']
  error: [err: P2PError]
}

export interface PeerTableLimits {
  /** Links still in their handshake at once; more are closed at once (TOO_MANY_HANDSHAKES). */
  maxPendingHandshakes: number
  /** Links others dialled that this node keeps; past it a newcomer gets our peer list and is closed. */
  maxIncoming: number
}

/** Frames and bytes over every link, closed ones included. */
export interface Traffic {
  framesIn: number
  framesOut: number
  bodyOut: number
  wireOut: number
  wireIn: number
}

/**
 * The links of a node and who is a peer: admission of incoming links (handshakes in progress,
 * incoming cap, courtesy links), the glare rule for two links to one node, and the table of
 * peers whose handshake completed.
 */
export class PeerTable {
  readonly #localId: string
  readonly #limits: PeerTableLimits
  readonly #context: PeerLinkContext
  /** Every message of every link, straight to the socket (the hot path: no emitter in between). */
  readonly #onMessage: (peer: PeerLink, message: MeshMessage, frame: DecodedFrame) => void
  readonly #events = new Emitter<PeerTableEvents>()
  readonly links = new Set<PeerLink>()
  readonly peers = new Map<string, PeerLink>()
  /** Incoming links over maxIncoming: they only get our peer list, then are closed. */
  readonly #courtesy = new Set<PeerLink>()
  /** Codec totals of links already closed, so stats cover the whole life of the node. */
  readonly #closed: Traffic = { framesIn: 0, framesOut: 0, bodyOut: 0, wireOut: 0, wireIn: 0 }

  constructor(context: PeerLinkContext, limits: PeerTableLimits, onMessage: (peer: PeerLink, message: MeshMessage, frame: DecodedFrame) => void) {
    this.#localId = context.localId
    this.#context = context
    this.#limits = limits
    this.#onMessage = onMessage
  }

  on<K extends keyof PeerTableEvents>(event: K, fn: (...args: PeerTableEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  /** Ids of the peers, except `but`. */
  ids(but?: string): string[] {
    const ids = [...this.peers.keys()]
    return but === undefined ? ids : ids.filter((p) => p !== but)
  }

  /** A link a remote node opened to us. */
  accept(link: Link): void {
    let handshaking = 0
    for (const l of this.links) if (l.state === 'handshaking' || l.state === 'authenticating') handshaking++
    if (handshaking >= this.#limits.maxPendingHandshakes) {
      this.#events.emit('error', new MeshError('TOO_MANY_HANDSHAKES', `${handshaking} links are already in their handshake; closed a new one`, { peerId: link.remoteId }))
      return void link.close()
    }
    let incoming = 0
    for (const l of this.links) if (!l.outgoing && !this.#courtesy.has(l)) incoming++
    // Full: still shake hands, hand the newcomer our peer list to dial instead, then close.
    const peer = this.adopt(link, false)
    if (incoming >= this.#limits.maxIncoming) this.#courtesy.add(peer)
  }

  /** Starts the handshake on a link, ours (`outgoing`) or accepted. */
  adopt(link: Link, outgoing: boolean): PeerLink {
    const peer = new PeerLink(link, outgoing, this.#context)
    this.links.add(peer)
    peer.on('ready', () => this.#onReady(peer))
    peer.on('closed', (reason) => this.#onClosed(peer, reason))
    peer.on('bad-frame', (err) => this.#events.emit('bad-frame', err))
    peer.on('dropped', (why) => this.#events.emit('dropped', why))
    peer.on('message', (message, frame) => this.#onMessage(peer, message, frame))
    peer.start()
    return peer
  }

  /** Frames and bytes over every link since start. */
  traffic(): Traffic {
    const t = { ...this.#closed }
    for (const l of this.links) addTraffic(t, l)
    return t
  }

  close(): Promise<unknown> {
    return Promise.all([...this.links].map((l) => l.close()))
  }

  #onReady(peer: PeerLink): void {
    const id = peer.remoteId!
    if (this.#courtesy.has(peer)) {
      void peer.send({ kind: 'peers', peers: this.ids(id) }).then(() => peer.close())
      return
    }
    this.#events.emit('linked', id)
    const existing = this.peers.get(id)
    if (existing !== undefined) {
      // Both dialled at once: keep the link dialled by the smaller id, on both sides alike.
      const dialer = (l: PeerLink): string => (l.outgoing ? this.#localId : id)
      const keep = dialer(peer) === (this.#localId < id ? this.#localId : id) ? peer : existing
      const drop = keep === peer ? existing : peer
      this.peers.set(id, keep)
      void drop.close()
      return
    }
    this.peers.set(id, peer)
    void peer.send({ kind: 'peers', peers: this.ids(id) })
    this.#events.emit('peer', id)
  }

  #onClosed(peer: PeerLink, reason: P2PError | undefined): void {
    this.links.delete(peer)
    this.#courtesy.delete(peer)
    addTraffic(this.#closed, peer)
    const id = peer.remoteId
    if (id !== undefined && this.peers.get(id) === peer) {
      this.peers.delete(id)
      this.#events.emit('peer-left', id, reason)
    }
    this.#events.emit('link-closed', peer, reason)
  }
}

function addTraffic(t: Traffic, link: PeerLink): void {
  const c = link.codec.stats
  t.framesIn += link.arrived.frames
  t.framesOut += c.framesOut
  t.bodyOut += c.bodyBytesOut
  t.wireOut += c.wireBytesOut
  t.wireIn += link.arrived.bytes
}
