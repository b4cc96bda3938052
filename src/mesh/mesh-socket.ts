import { MeshError, P2PError } from '../errors.js'
import type { Link } from '../transport/types.js'
import { pageConnectionsCreated } from '../transport/webrtc/webrtc-transport.js'
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js'
import { Emitter } from '../util/emitter.js'
import { binaryKey, toHex } from '../util/bytes.js'
import { isB58 } from '../wire/base58.js'
import { Serial, andThen, type MaybePromise } from '../util/serial.js'
import { packFrame, sealBody, webDigest, type DecodedFrame, type Digest, type FrameVariant } from '../wire/frame.js'
import { SignatureVerifier, signedProtocolId, signingInput } from '../wire/signed.js'
import { loadIdentity } from '../storage/identity-store.js'
import { protocolId as makeProtocolId } from '../wire/ids.js'
import { Identity, type IdentityKeyPair } from '../wire/identity.js'
import { meshFrame, type MeshMessage } from './messages.js'
import { MeshSignaler } from './mesh-signaler.js'
import { webRtcNetwork, type MeshNetwork, type MeshNetworkFactory } from './network.js'
import { PeerLink } from './peer-link.js'
import { Router, type RouterStats } from './router.js'
import { Candidates } from './candidates.js'
import { MESH_DEFAULTS, resolveMeshOptions, type MeshSocketOptions, type ResolvedMeshOptions } from './options.js'

/** A user message as the application receives it. */
export interface ReceivedMessage {
  type: 'broadcast' | 'whisper'
  /** The originating node's id. */
  sender: string
  /** Exactly what the sender passed to send()/whisper(). */
  payload: unknown[]
  /** Hex of the 32-byte message id. */
  id: string
  /** The sender's timestamp, Unix seconds (informational: nothing depends on it). */
  time: number
  /** Whispers back to the sender: directly if it is a neighbour, else routed through the mesh. */
  reply(...payload: unknown[]): Promise<void>
}

export type MeshEvents = {
  message: [message: ReceivedMessage]
  peer: [id: string]
  'peer-left': [id: string, reason: P2PError | undefined]
  error: [err: P2PError]
}

/** Injected services (tests pass a simulated network and virtual clock). */
export interface MeshServices {
  clock?: Clock
  random?: () => number
  network?: MeshNetworkFactory
  /** SHA-256 for frame ids. Default `webDigest` (WebCrypto for large bodies); `syncDigest` keeps a simulation deterministic. */
  digest?: Digest
  /** Signature checks (signed mode). Default: WebCrypto where it has Ed25519; a noble one answers synchronously. */
  verifier?: SignatureVerifier
  /** Random bytes for handshake nonces. Default crypto.getRandomValues. */
  randomBytes?: (n: number) => Uint8Array
}

export interface MeshStats extends RouterStats {
  peers: number
  /** Frames received and sent on all links since start (every kind: user, relay, control). */
  messagesIn: number
  messagesOut: number
  /** Bytes on the wire, all links since start. */
  bytesIn: number
  bytesOut: number
  /** Uncompressed bodies / bodies as sent, over all frames sent (1 = no saving). */
  compressionRatio: number
  /** Frames dropped as malformed (each reported as a BAD_FRAME error). */
  badFrames: number
  /** Messages dropped from the recv() queue because it was full. */
  recvDropped: number
  /** Dials that failed (the candidate is retried after a backoff). */
  dialFailures: number
  /** Signed mode: messages dropped because their signature, key or signer did not hold (each reported as FORGED). */
  forged: number
  /** Signed mode: signed messages dropped for a timestamp outside the replay window (maxClockSkewMs). */
  stale: number
  /** Frames dropped unread because a peer sent more than maxMessagesPerSecond. */
  rateLimited: number
}

/**
 * An unorganised mesh network (p2p.today's MeshSocket): broadcasts are flooded, whispers go to
 * one node (routed if it is not a neighbour), peers are exchanged and replaced as they come and
 * go. See README for the API and docs/protocol.md for the messages.
 */
export class MeshSocket {
  readonly #options: ResolvedMeshOptions
  readonly #clock: Clock
  readonly #digest: Digest
  readonly #verifier: SignatureVerifier
  readonly #randomBytes: (n: number) => Uint8Array
  /** The identity store's slot, if this socket holds one (released on close). */
  #releaseIdentity: (() => void) | undefined
  /** Our flooded and routed messages, in call order while one waits on an async digest. */
  readonly #outbox = new Serial()
  readonly #random: () => number
  readonly #events = new Emitter<MeshEvents>((err, event) => console.error(`p2p-today: a mesh '${String(event)}' listener threw`, err))
  readonly #handlers: ((message: ReceivedMessage) => boolean | void)[] = []
  readonly #queue: ReceivedMessage[] = []
  readonly #links = new Set<PeerLink>()
  readonly #peers = new Map<string, PeerLink>()
  readonly #dialing = new Set<string>()
  /** Incoming links over maxIncoming: they only get our peer list, then are closed. */
  readonly #courtesy = new Set<PeerLink>()
  readonly #candidates: Candidates
  readonly #started: Promise<void>
  readonly #ready: Promise<void>
  #resolveReady!: () => void
  #identity: Identity | undefined
  #protocolId = ''
  #router: Router | undefined
  #signaler: MeshSignaler | undefined
  #network: MeshNetwork | undefined
  #keepalive: TimerHandle | undefined
  #maintainTimer: TimerHandle | undefined
  #closing: Promise<void> | undefined
  #nonce = 0
  #budgetReported = false
  readonly #counters = { badFrames: 0, recvDropped: 0, dialFailures: 0, delivered: 0, forged: 0, stale: 0, rateLimited: 0 }
  /** Codec totals of links already closed, so stats cover the whole life of the socket. */
  readonly #closedTotals = { framesIn: 0, framesOut: 0, bodyOut: 0, wireOut: 0, wireIn: 0 }

  constructor(options: MeshSocketOptions = {}, services: MeshServices = {}) {
    this.#options = resolveMeshOptions(options, services.network !== undefined)
    this.#clock = services.clock ?? systemClock
    this.#random = services.random ?? Math.random
    this.#digest = services.digest ?? webDigest
    this.#verifier = services.verifier ?? new SignatureVerifier()
    this.#randomBytes = services.randomBytes ?? ((n) => crypto.getRandomValues(new Uint8Array(n)))
    this.#candidates = new Candidates(this.#options.maxCandidates, this.#random)
    this.#ready = new Promise((resolve) => (this.#resolveReady = resolve))
    const network =
      services.network ??
      webRtcNetwork({
        signaling: this.#options.signaling,
        iceServers: options.iceServers,
        wrtc: options.wrtc,
        WebSocket: options.WebSocket,
        dialTimeoutMs: options.dialTimeoutMs,
        connectionBudget: this.#options.connectionBudget,
      })
    this.#started = this.#start(network, options.identity)
    this.#started.catch((err: unknown) => this.#report(err instanceof P2PError ? err : new MeshError('MESH_CLOSED', 'mesh failed to start', { cause: err })))
  }

  /** This node's id. Known once start-up has made or loaded the identity (await ready()); throws INVALID_ARGUMENT before. */
  get id(): string {
    if (this.#identity === undefined) throw new MeshError('INVALID_ARGUMENT', 'the node id is known once ready() resolves')
    return this.#identity.id
  }

  /** The subnet's protocol id. */
  get protocolId(): string {
    return this.#protocolId
  }

  /** Ids of the direct peers (handshake complete). */
  get peers(): string[] {
    return [...this.#peers.keys()]
  }

  /** Resolves when connected to at least one peer, or alone in the network; rejects if start-up failed. */
  async ready(): Promise<void> {
    await this.#started
    await this.#ready
  }

  on<K extends keyof MeshEvents>(event: K, fn: (...args: MeshEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  /** Handlers run in order on each user message; the first to return true consumes it. */
  registerHandler(handler: (message: ReceivedMessage) => boolean | void): () => void {
    this.#handlers.push(handler)
    return () => {
      const i = this.#handlers.indexOf(handler)
      if (i >= 0) this.#handlers.splice(i, 1)
    }
  }

  /** Takes up to `n` queued messages that no handler consumed (oldest first). */
  recv(n = 1): ReceivedMessage[] {
    return this.#queue.splice(0, Math.max(0, n))
  }

  /**
   * Broadcasts `payload` to every node of the network. Throws INVALID_PAYLOAD for values the
   * wire cannot carry. Resolves when every neighbour link accepted it (await for backpressure).
   */
  send(...payload: unknown[]): Promise<void> {
    const router = this.#live()
    return this.#originate({ kind: 'broadcast', payload }, ({ body, id }) => router.broadcast(body, id))
  }

  /** Sends `payload` to one node: directly if it is a neighbour, else routed through the mesh. */
  whisper(to: string, ...payload: unknown[]): Promise<void> {
    const router = this.#live()
    this.#checkPeerId(to, 'whisper(to, ...payload)')
    const direct = this.#peers.get(to)
    if (direct !== undefined) return direct.send({ kind: 'whisper', payload })
    return this.#originate({ kind: 'routed-whisper', target: to, payload }, ({ body, id }) => router.route(body, id, to, false))
  }

  /**
   * Opens a link to `id` now, beyond `maxOutgoing` (e.g. a node learned from the application).
   * Once this node has a neighbour the WebRTC negotiation is relayed through the mesh, so it works
   * without the signaling server. Resolves when `id` is a peer; rejects with the dial's error.
   */
  connect(id: string): Promise<void> {
    this.#live()
    this.#checkPeerId(id, 'connect(id)')
    if (this.#peers.has(id)) return Promise.resolve()
    if (pageConnectionsCreated() >= this.#options.connectionBudget) {
      throw new MeshError('CONNECTION_BUDGET', `connection budget of ${this.#options.connectionBudget} reached`)
    }
    return this.#network!.transport.dial(id).then((link) => {
      if (this.#closing !== undefined) {
        void link.close()
        throw new MeshError('MESH_CLOSED', 'the mesh socket closed while connecting')
      }
      return new Promise<void>((resolve, reject) => {
        const offPeer = this.#events.on('peer', (p) => {
          if (p !== id) return
          offPeer()
          resolve()
        })
        this.#adopt(link, true).on('closed', (reason) => {
          offPeer()
          if (this.#peers.has(id)) resolve()
          else reject(reason ?? new MeshError('HANDSHAKE_FAILED', `link to ${id} closed during the handshake`, { peerId: id }))
        })
      })
    })
  }

  get stats(): MeshStats {
    const t = { ...this.#closedTotals }
    for (const l of this.#links) addCodecTotals(t, l)
    const r = this.#router?.stats ?? { originated: 0, relayed: 0, duplicates: 0, delivered: 0, signalsDropped: 0 }
    const bodiesSent = t.wireOut - 4 * t.framesOut // LEN prefixes are not compression
    return {
      ...r,
      delivered: this.#counters.delivered,
      badFrames: this.#counters.badFrames,
      forged: this.#counters.forged,
      stale: this.#counters.stale,
      rateLimited: this.#counters.rateLimited,
      recvDropped: this.#counters.recvDropped,
      dialFailures: this.#counters.dialFailures,
      peers: this.#peers.size,
      messagesIn: t.framesIn,
      messagesOut: t.framesOut,
      bytesIn: t.wireIn,
      bytesOut: t.wireOut,
      compressionRatio: bodiesSent <= 0 ? 1 : t.bodyOut / bodiesSent,
    }
  }

  /** Idempotent: closes every link and the signaling connection; afterwards methods throw MESH_CLOSED. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#clock.clearTimeout(this.#keepalive)
      this.#clock.clearTimeout(this.#maintainTimer)
      await this.#started.catch(() => {})
      await Promise.all([...this.#links].map((l) => l.close()))
      await this.#network?.close()
      this.#releaseIdentity?.()
      this.#resolveReady()
      this.#events.removeAll()
    })()
    return this.#closing
  }

  // ---- start-up ---------------------------------------------------------------------------

  async #start(factory: MeshNetworkFactory, identity: MeshSocketOptions['identity']): Promise<void> {
    this.#identity = await this.#loadIdentity(identity)
    const signed = this.#options.security === 'signed'
    this.#protocolId = (signed ? signedProtocolId : makeProtocolId)(this.#options.subnet, this.#options.transportName)
    const localId = this.#identity.id
    this.#signaler = new MeshSignaler(localId, (to, blob) => this.#relaySignal(to, blob))
    this.#router = new Router(
      {
        localId,
        now: () => this.#clock.now(),
        neighbours: () => this.#peers.values(),
        neighbour: (id) => this.#peers.get(id),
        deliver: (kind, frame, payload) => this.#deliver(kind, frame, payload),
        signal: (from, blob) => this.#signaler?.receive(from, blob),
      },
      { seen: this.#options.seenCache, maxSignalRelaysPerMinute: this.#options.maxSignalRelaysPerMinute },
    )
    const network = await factory({ identity: this.#identity, protocolId: this.#protocolId, signaler: this.#signaler })
    this.#network = network
    if (this.#closing !== undefined) return void (await network.close())
    this.#signaler.attachServer(network.server)
    network.transport.on('link', (link) => this.#accept(link))
    network.transport.on('error', (err) => this.#report(err))
    for (const id of network.bootstrap) this.#candidates.add(id, this.#clock.now())
    this.#scheduleKeepalive()
    this.#maintain()
  }

  /**
   * The identity option: an Identity or key pair of the application's, 'ephemeral', or
   * 'persistent' (IndexedDB). Without the option, persistent where IndexedDB exists; if the
   * store fails then, the error is reported and a fresh identity used (asked for explicitly,
   * start-up fails with it instead).
   */
  async #loadIdentity(option: MeshSocketOptions['identity']): Promise<Identity> {
    if (option instanceof Identity) return option
    if (typeof option === 'object' && option !== null) return Identity.fromKeyPair(option as IdentityKeyPair)
    if (option === 'ephemeral' || (option === undefined && typeof indexedDB === 'undefined')) return Identity.generate()
    if (option !== undefined && option !== 'persistent') throw new MeshError('INVALID_ARGUMENT', `option identity: unknown value ${String(option)}`)
    try {
      const stored = await loadIdentity({ subnet: this.#options.subnet })
      this.#releaseIdentity = () => stored.release()
      if (this.#closing !== undefined) stored.release()
      return stored.identity
    } catch (err: unknown) {
      if (option === 'persistent' || !(err instanceof P2PError)) throw err
      this.#report(err)
      return Identity.generate()
    }
  }

  // ---- links --------------------------------------------------------------------------------

  #accept(link: Link): void {
    if (this.#closing !== undefined) return void link.close()
    let handshaking = 0
    for (const l of this.#links) if (l.state === 'handshaking' || l.state === 'authenticating') handshaking++
    if (handshaking >= this.#options.maxPendingHandshakes) {
      this.#report(new MeshError('TOO_MANY_HANDSHAKES', `${handshaking} links are already in their handshake; closed a new one`, { peerId: link.remoteId }))
      return void link.close()
    }
    let incoming = 0
    for (const l of this.#links) if (!l.outgoing && !this.#courtesy.has(l)) incoming++
    // Full: still shake hands, hand the newcomer our peer list to dial instead, then close.
    const peer = this.#adopt(link, false)
    if (incoming >= this.#options.maxIncoming) this.#courtesy.add(peer)
  }

  #adopt(link: Link, outgoing: boolean): PeerLink {
    const peer = new PeerLink(link, outgoing, {
      localId: this.id,
      protocolId: this.#protocolId,
      codec: { compressions: this.#options.compressions, maxFrameBytes: this.#options.maxFrameBytes, variant: this.#variant },
      clock: this.#clock,
      handshakeTimeoutMs: this.#options.handshakeTimeoutMs,
      maxBadFrames: this.#options.maxBadFrames,
      digest: this.#digest,
      seenBefore: (id) => this.#router!.seenBefore(id),
      maxMessagesPerSecond: this.#options.maxMessagesPerSecond,
      rateLimitGraceMs: this.#options.rateLimitGraceMs,
      ...(this.#options.security === 'signed'
        ? { signing: { identity: this.#identity!, verifier: this.#verifier, maxClockSkewMs: this.#options.maxClockSkewMs, randomBytes: this.#randomBytes } }
        : {}),
    })
    this.#links.add(peer)
    peer.on('ready', () => this.#onReady(peer))
    peer.on('closed', (reason) => this.#onClosed(peer, reason))
    peer.on('bad-frame', (err) => {
      if (err.code === 'FORGED') this.#counters.forged++
      else this.#counters.badFrames++
      this.#report(err)
    })
    peer.on('dropped', (why) => void (why === 'stale' ? this.#counters.stale++ : this.#counters.rateLimited++))
    peer.on('message', (message, frame) => this.#onMessage(peer, message, frame))
    peer.start()
    return peer
  }

  #onReady(peer: PeerLink): void {
    const id = peer.remoteId!
    if (this.#courtesy.has(peer)) {
      void peer.send({ kind: 'peers', peers: this.peers.filter((p) => p !== id) }).then(() => peer.close())
      return
    }
    this.#candidates.succeeded(id)
    const existing = this.#peers.get(id)
    if (existing !== undefined) {
      // Both dialled at once: keep the link dialled by the smaller id, on both sides alike.
      const dialer = (l: PeerLink): string => (l.outgoing ? this.id : id)
      const keep = dialer(peer) === (this.id < id ? this.id : id) ? peer : existing
      const drop = keep === peer ? existing : peer
      this.#peers.set(id, keep)
      void drop.close()
      return
    }
    this.#peers.set(id, peer)
    void peer.send({ kind: 'peers', peers: this.peers.filter((p) => p !== id) })
    this.#events.emit('peer', id)
    this.#resolveReady()
  }

  #onClosed(peer: PeerLink, reason: P2PError | undefined): void {
    this.#links.delete(peer)
    this.#courtesy.delete(peer)
    addCodecTotals(this.#closedTotals, peer)
    const id = peer.remoteId
    // A link we dialled that ended with an error (refused, handshake failed, died) makes its
    // node wait out a backoff before we dial it again: no tight redial loop burning connections.
    if (peer.outgoing && reason !== undefined && id !== undefined) this.#candidates.failed(id, this.#clock.now())
    if (id !== undefined && this.#peers.get(id) === peer) {
      this.#peers.delete(id)
      this.#events.emit('peer-left', id, reason)
    }
    if (reason instanceof MeshError && reason.code === 'BAD_FRAME') this.#counters.badFrames++
    if (reason instanceof MeshError) this.#report(reason)
    if (id !== undefined && reason instanceof MeshError && reason.code === 'SUBNET_MISMATCH') this.#candidates.forget(id)
    this.#scheduleMaintain(0)
  }

  #onMessage(peer: PeerLink, message: MeshMessage, frame: DecodedFrame): void {
    switch (message.kind) {
      case 'ping':
        return void peer.send({ kind: 'pong', nonce: message.nonce })
      case 'pong':
      case 'handshake':
        return
      case 'peers':
        for (const id of message.peers) if (id !== this.id) this.#candidates.add(id, this.#clock.now())
        return this.#scheduleMaintain(0)
      case 'peers-request':
        return void peer.send({ kind: 'peers', peers: this.peers.filter((p) => p !== peer.remoteId) })
      case 'whisper':
        if (frame.sender !== peer.remoteId) {
          this.#counters.badFrames++
          return this.#report(new MeshError('BAD_FRAME', `neighbour ${peer.remoteId ?? '?'} sent a direct whisper as ${frame.sender}`, { peerId: peer.remoteId }))
        }
        return this.#deliver('whisper', frame, message.payload)
      default:
        return this.#router?.receive(peer, message, frame)
    }
  }

  // ---- delivery -------------------------------------------------------------------------------

  #deliver(type: 'broadcast' | 'whisper', frame: DecodedFrame, payload: unknown[]): void {
    const sender = frame.sender
    const message: ReceivedMessage = {
      type,
      sender,
      payload,
      id: toHex(frame.id),
      time: frame.time,
      reply: (...args: unknown[]) => this.whisper(sender, ...args),
    }
    this.#counters.delivered++
    for (const handler of [...this.#handlers]) {
      try {
        if (handler(message) === true) return
      } catch (err: unknown) {
        this.#report(new MeshError('HANDLER_FAILED', 'a message handler threw', { cause: err, peerId: sender }))
      }
    }
    // Event listeners get it; without any, it waits in the recv() queue (bounded, oldest dropped).
    if (this.#events.listenerCount('message') > 0) return this.#events.emit('message', message)
    this.#queue.push(message)
    if (this.#queue.length > this.#options.maxQueuedMessages) {
      this.#queue.shift()
      this.#counters.recvDropped++
    }
  }

  // ---- peer management ----------------------------------------------------------------------

  #scheduleMaintain(ms: number): void {
    if (this.#closing !== undefined) return
    this.#clock.clearTimeout(this.#maintainTimer)
    this.#maintainTimer = this.#clock.setTimeout(() => this.#maintain(), ms)
  }

  /** Dials candidates until `maxOutgoing` outgoing links exist or are being made. */
  #maintain(): void {
    if (this.#closing !== undefined || this.#network === undefined) return
    const now = this.#clock.now()
    let outgoing = this.#dialing.size
    for (const l of this.#links) if (l.outgoing) outgoing++
    const taken = new Set<string | undefined>([this.id, ...this.#dialing, ...[...this.#links].map((l) => l.remoteId)])
    while (outgoing < this.#options.maxOutgoing) {
      if (pageConnectionsCreated() >= this.#options.connectionBudget) {
        if (!this.#budgetReported) this.#report(new MeshError('CONNECTION_BUDGET', `connection budget of ${this.#options.connectionBudget} reached: not dialling`))
        this.#budgetReported = true
        break
      }
      const id = this.#candidates.pick(now, (c) => !taken.has(c))
      if (id === undefined) break
      taken.add(id)
      outgoing++
      this.#dial(id)
    }
    if (this.#peers.size === 0 && this.#dialing.size === 0 && this.#links.size === 0) this.#resolveReady() // alone
    const next = this.#candidates.nextAttemptAt(now)
    this.#scheduleMaintain(Math.max(this.#options.maintainIntervalMs, next === undefined ? 0 : next - now))
  }

  #dial(id: string): void {
    this.#dialing.add(id)
    this.#network!.transport.dial(id).then(
      (link) => {
        this.#dialing.delete(id)
        if (this.#closing !== undefined) return void link.close()
        this.#adopt(link, true)
      },
      () => {
        this.#dialing.delete(id)
        this.#counters.dialFailures++
        this.#candidates.failed(id, this.#clock.now())
        this.#scheduleMaintain(0)
      },
    )
  }

  // ---- keepalive ------------------------------------------------------------------------------

  #scheduleKeepalive(): void {
    const due = this.#clock.now() + this.#options.keepaliveMs
    this.#keepalive = this.#clock.setTimeout(() => {
      const now = this.#clock.now()
      // If this timer itself ran late, our own thread was stalled (a busy page, a huge message
      // being decoded): messages from peers may be waiting unprocessed behind the stall, so
      // silence is not evidence this round. Ping, and judge on the next round.
      const stalled = now - due > this.#options.keepaliveMs
      for (const peer of [...this.#peers.values()]) {
        if (!stalled && now - peer.lastHeard > this.#options.peerTimeoutMs) {
          peer.fail(new MeshError('PEER_TIMEOUT', `nothing from ${peer.remoteId ?? '?'} for ${now - peer.lastHeard} ms`, { peerId: peer.remoteId }))
        } else if (now - peer.lastSent >= this.#options.keepaliveMs) {
          void peer.send({ kind: 'ping', nonce: ++this.#nonce })
        }
      }
      if (this.#closing === undefined) this.#scheduleKeepalive()
    }, this.#options.keepaliveMs)
  }

  // ---- helpers --------------------------------------------------------------------------------

  #live(): Router {
    if (this.#closing !== undefined) throw new MeshError('MESH_CLOSED', 'the mesh socket is closed')
    if (this.#router === undefined) throw new MeshError('INVALID_ARGUMENT', 'the mesh is starting: await ready() first')
    return this.#router
  }

  /**
   * Encodes one of our flooded/routed messages (throwing at once if the wire cannot carry it) and
   * hands it to `go` once its id is known; our messages leave in call order. In 0.7 two identical
   * messages in the same second have the same id, so the second would be dropped as a duplicate
   * everywhere; a repeat gets its timestamp moved on by a second until its id is new.
   */
  #originate(message: MeshMessage, go: (m: { body: Uint8Array; id: Uint8Array }) => Promise<void>): Promise<void> {
    const limits = { maxFrameBytes: this.#options.maxFrameBytes, variant: this.#variant }
    const t0 = Math.floor(this.#clock.now() / 1000)
    const first = packFrame(meshFrame(message, this.id, t0), limits)
    const unique = (packed: Uint8Array, t: number): MaybePromise<{ packed: Uint8Array; id: Uint8Array }> =>
      andThen(this.#digest(packed), (id) => {
        if (!this.#router!.seen.has(binaryKey(id), this.#clock.now())) return { packed, id }
        return unique(packFrame(meshFrame(message, this.id, t + 1), limits), t + 1)
      })
    // Signed mode: flooded and routed messages carry our signature of their id.
    const seal = ({ packed, id }: { packed: Uint8Array; id: Uint8Array }): MaybePromise<{ body: Uint8Array; id: Uint8Array }> => {
      if (this.#variant === '0.7') return { body: sealBody(packed, id), id }
      const identity = this.#identity!
      return identity.sign(signingInput(this.#protocolId, id)).then((signature) => ({
        body: sealBody(packed, id, 'signed', { publicKey: identity.publicKey, signature }),
        id,
      }))
    }
    return this.#outbox.run(() => andThen(andThen(unique(first, t0), seal), go))
  }

  /** The frame layout of this socket's links. */
  get #variant(): FrameVariant {
    return this.#options.security === 'signed' ? 'signed' : '0.7'
  }

  #checkPeerId(id: unknown, call: string): asserts id is string {
    if (!isB58(id)) throw new MeshError('INVALID_ARGUMENT', `${call} needs a node id (base58)`)
    if (id === this.id) throw new MeshError('INVALID_ARGUMENT', `${call}: that is this node's own id`)
  }

  #relaySignal(to: string, blob: Record<string, unknown>): boolean {
    if (this.#peers.size === 0 || this.#router === undefined || this.#closing !== undefined) return false
    const router = this.#router
    void this.#originate({ kind: 'routed-signal', target: to, blob }, ({ body, id }) => router.route(body, id, to, true)).catch(() => {})
    return true
  }

  #report(err: P2PError): void {
    if (this.#events.listenerCount('error') > 0) this.#events.emit('error', err)
  }
}

function addCodecTotals(t: { framesIn: number; framesOut: number; bodyOut: number; wireOut: number; wireIn: number }, link: PeerLink): void {
  const c = link.codec.stats
  t.framesIn += link.arrived.frames
  t.framesOut += c.framesOut
  t.bodyOut += c.bodyBytesOut
  t.wireOut += c.wireBytesOut
  t.wireIn += link.arrived.bytes
}

export { MESH_DEFAULTS }
export type { MeshSocketOptions }
