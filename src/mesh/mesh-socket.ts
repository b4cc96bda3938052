import { MeshError, P2PError } from '../errors.js'
import type { Network, NetworkFactory } from '../transport/types.js'
import { systemClock, type Clock } from '../util/clock.js'
import { Emitter } from '../util/emitter.js'
import { webDigest, type DecodedFrame } from '../wire/frame.js'
import { SignatureVerifier, signedProtocolId } from '../wire/signed.js'
import { protocolId as makeProtocolId } from '../wire/ids.js'
import { Identity, type IdentityKeyPair } from '../wire/identity.js'
import { Delivery } from './delivery.js'
import { Dialer } from './dialer.js'
import { Keepalive } from './keepalive.js'
import { MESH_RESERVED, type MeshMessage } from './messages.js'
import { MeshSignaler } from './mesh-signaler.js'
import { Originator } from './originator.js'
import type { PeerLink } from './peer-link.js'
import { PeerTable } from './peer-table.js'
import { checkPeerId, openPort, type Live, type PortHost, type PortSigning } from './port.js'
import { ProtocolRegistry, type MeshPort, type MeshProtocol } from './protocol.js'
import { ReachCheck } from './reach.js'
import { Router } from './router.js'
import type { IdentityStore, MeshEvents, MeshServices, MeshStats } from './types.js'
import { UserMessages, type ReceivedMessage } from './user-messages.js'
import { MESH_DEFAULTS, resolveMeshOptions, type MeshOptions, type ResolvedMeshOptions } from './options.js'

/**
 * An unorganised mesh network (p2p.today's MeshSocket): broadcasts are flooded, whispers go to
 * one node (routed if it is not a neighbour), peers are exchanged and replaced as they come and
 * go. Network models plug in through `register` (docs/ARCHITECTURE.md, "The protocol seam"); the
 * user messages of `send`/`whisper` are the first of them. See docs/API.md for the API.
 */
export class MeshSocket {
  readonly #options: ResolvedMeshOptions
  readonly #services: MeshServices
  readonly #clock: Clock
  readonly #events = new Emitter<MeshEvents>((err, event) => console.error(`p2p-today: a mesh '${String(event)}' listener threw`, err))
  readonly #registry = new ProtocolRegistry(MESH_RESERVED)
  readonly #delivery: Delivery
  /** What every protocol's port uses of this socket. */
  readonly #portHost: PortHost
  /** The port of each registered protocol (replies go out through it). */
  readonly #ports = new Map<MeshProtocol, MeshPort>()
  readonly #user: UserMessages
  readonly #userPort: MeshPort
  /** Joins the mesh again when it was cut into parts (reach.ts). */
  readonly #reach: ReachCheck
  readonly #reachPort: MeshPort
  readonly #started: Promise<void>
  readonly #ready: Promise<void>
  #resolveReady!: () => void
  #identity: Identity | undefined
  #releaseIdentity: (() => void) | undefined
  #protocolId = ''
  #signing: PortSigning | undefined
  #live: Live | undefined
  #dialer: Dialer | undefined
  #keepalive: Keepalive | undefined
  #network: Network | undefined
  #closing: Promise<void> | undefined
  readonly #counters = { badFrames: 0, forged: 0, stale: 0, rateLimited: 0 }

  /** `model`: the network model's tag in the protocol id ('mesh'; 'sync1'/'sync0', 'chord' for the models built on it). */
  constructor(options: MeshOptions = {}, services: MeshServices = {}, model = 'mesh') {
    this.#options = resolveMeshOptions(options)
    this.#services = services
    this.#clock = services.clock ?? systemClock
    this.#ready = new Promise((resolve) => (this.#resolveReady = resolve))
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const socket = this
    this.#portHost = {
      get id() {
        return socket.id
      },
      registry: this.#registry,
      live: () => this.#alive(),
      connect: (id) => this.connect(id),
      report: (err) => this.#report(err),
      signing: () => this.#signing,
    }
    this.#delivery = new Delivery({
      registry: this.#registry,
      proven: this.#options.security === 'signed',
      reply: (protocol, to, sub, items) => {
        const port = this.#ports.get(protocol)
        if (port === undefined) throw new MeshError('INVALID_ARGUMENT', `${protocol.name} is no longer registered`)
        return port.whisper(to, sub, ...items)
      },
      report: (err) => this.#report(err),
    })
    this.#user = new UserMessages({
      emit: (m) => this.#events.listenerCount('message') > 0 && (this.#events.emit('message', m), true),
      report: (err) => this.#report(err),
      maxQueued: this.#options.maxQueuedMessages,
    })
    this.#userPort = this.register(this.#user)
    this.#reach = new ReachCheck(this.#options)
    this.#reachPort = this.register(this.#reach)
    if (services.network === undefined) throw new MeshError('INVALID_ARGUMENT', 'MeshSocket needs a network: import it from the package entry, or pass services.network')
    this.#started = this.#start(services.network, options.identity, model)
    this.#started.catch((err: unknown) => this.#report(err instanceof P2PError ? err : new MeshError('MESH_CLOSED', 'mesh failed to start', { cause: err })))
  }

  /** This node's id. Known once start-up has made or loaded the identity (await ready()); throws INVALID_ARGUMENT before. */
  get id(): string {
    if (this.#identity === undefined) throw new MeshError('INVALID_ARGUMENT', 'the node id is known once ready() resolves')
    return this.#identity.id
  }

  /** The subnet's protocol id (subnet, model, transport name and security mode). */
  get protocolId(): string {
    return this.#protocolId
  }

  /** Ids of the direct peers (handshake complete). */
  get peers(): string[] {
    return this.#live?.table.ids() ?? []
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
    return this.#user.addHandler(handler)
  }

  /** Takes up to `n` queued messages that no handler consumed (oldest first). */
  recv(n = 1): ReceivedMessage[] {
    return this.#user.recv(n)
  }

  /**
   * Broadcasts `payload` to every node of the network. Throws INVALID_PAYLOAD for values the
   * wire cannot carry. Resolves when every neighbour link accepted it (await for backpressure).
   */
  send(...payload: unknown[]): Promise<void> {
    return this.#user.send(this.#userPort, payload)
  }

  /** Sends `payload` to one node: directly if it is a neighbour, else routed through the mesh. */
  whisper(to: string, ...payload: unknown[]): Promise<void> {
    return this.#user.whisper(this.#userPort, to, payload)
  }

  /**
   * Opens a link to `id` now, beyond `maxOutgoing` (e.g. a node learned from the application).
   * Once this node has a neighbour the WebRTC negotiation is relayed through the mesh, so it works
   * without the signaling server. Resolves when `id` is a peer; rejects with the dial's error;
   * throws CONNECTION_BUDGET when the transport has no connections left.
   */
  connect(id: string): Promise<void> {
    this.#alive()
    checkPeerId(this, id, 'connect(id)')
    if (this.#dialer === undefined) throw new MeshError('INVALID_ARGUMENT', 'the mesh is starting: await ready() first')
    return this.#dialer.connect(id, () => this.#closing !== undefined)
  }

  /**
   * Plugs a network model into this mesh (docs/ARCHITECTURE.md, "The protocol seam"): it owns the
   * sub flags it claims (FLAG_TAKEN if another protocol has one), receives their messages decoded
   * and the peer events, and sends through the returned port.
   */
  register<M>(protocol: MeshProtocol<M>): MeshPort {
    if (this.#closing !== undefined) throw new MeshError('MESH_CLOSED', 'the mesh socket is closed')
    const p = protocol as MeshProtocol
    this.#registry.add(p)
    const port = openPort(this.#portHost, p, () => this.#ports.delete(p))
    this.#ports.set(p, port)
    return port
  }

  get stats(): MeshStats {
    const t = this.#live?.table.traffic() ?? { framesIn: 0, framesOut: 0, bodyOut: 0, wireOut: 0, wireIn: 0 }
    const r = this.#live?.router.stats ?? { originated: 0, relayed: 0, duplicates: 0, delivered: 0, signalsDropped: 0 }
    const bodiesSent = t.wireOut - 4 * t.framesOut // LEN prefixes are not compression
    return {
      ...r,
      ...this.#reach.stats,
      ...this.#counters,
      delivered: this.#delivery.delivered,
      recvDropped: this.#user.recvDropped,
      dialFailures: this.#dialer?.dialFailures ?? 0,
      peers: this.peers.length,
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
      this.#keepalive?.stop()
      this.#dialer?.stop()
      this.#reach.stop()
      await this.#started.catch(() => {})
      await this.#live?.table.close()
      await this.#network?.close()
      this.#releaseIdentity?.()
      this.#resolveReady()
      this.#events.removeAll()
    })()
    return this.#closing
  }

  // ---- start-up ---------------------------------------------------------------------------

  async #start(factory: NetworkFactory, identity: MeshOptions['identity'], model: string): Promise<void> {
    const o = this.#options
    const services = this.#services
    this.#identity = await this.#loadIdentity(identity)
    const signed = o.security === 'signed'
    this.#protocolId = (signed ? signedProtocolId : makeProtocolId)(o.subnet + model, o.transportName)
    const localId = this.#identity.id
    const signaler = new MeshSignaler(localId, (to, blob) => this.#relaySignal(to, blob))
    const clock = this.#clock
    const digest = services.digest ?? webDigest
    const verifier = services.verifier ?? new SignatureVerifier()
    const randomBytes = services.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)))
    const variant = signed ? 'signed' : '0.7'
    if (signed) {
      const identity = this.#identity
      this.#signing = {
        protocolId: this.#protocolId,
        publicKey: identity.publicKey,
        sign: (data) => identity.sign(data),
        idMatches: (key, id) => verifier.idMatches(key, id),
        verify: (key, data, signature) => verifier.verify(key, data, signature),
      }
    }
    const table: PeerTable = new PeerTable(
      {
        localId,
        protocolId: this.#protocolId,
        codec: { compressions: o.compressions, maxFrameBytes: o.maxFrameBytes, variant },
        clock,
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        maxBadFrames: o.maxBadFrames,
        digest,
        seenBefore: (id) => router.seenBefore(id),
        maxMessagesPerSecond: o.maxMessagesPerSecond,
        rateLimitGraceMs: o.rateLimitGraceMs,
        registry: this.#registry,
        ...(signed ? { signing: { identity: this.#identity, verifier, maxClockSkewMs: o.maxClockSkewMs, randomBytes } } : {}),
      },
      o,
      (peer, message, frame) => this.#onMessage(peer, message, frame),
    )
    const router: Router = new Router(
      {
        localId,
        now: () => clock.now(),
        neighbours: () => table.peers.values(),
        neighbour: (id) => table.peers.get(id),
        deliver: (message, frame, from) => this.#delivery.deliver(message, frame, from.remoteId!),
        signal: (from, blob) => signaler.receive(from, blob),
      },
      { seen: o.seenCache, maxSignalRelaysPerMinute: o.maxSignalRelaysPerMinute },
    )
    const originator = new Originator({ identity: this.#identity, protocolId: this.#protocolId, variant, maxFrameBytes: o.maxFrameBytes, clock, digest, seen: router.seen })
    this.#live = { table, router, originator }
    this.#watch(table)
    const network = await factory({ identity: this.#identity, protocolId: this.#protocolId, signaler })
    this.#network = network
    if (this.#closing !== undefined) return void (await network.close())
    signaler.attachServer(network.server)
    network.transport.on('link', (link) => (this.#closing === undefined ? table.accept(link) : void link.close()))
    network.transport.on('error', (err) => this.#report(err))
    this.#dialer = new Dialer({ localId, network, table, clock, random: services.random ?? Math.random, report: (err) => this.#report(err), alone: () => this.#resolveReady() }, o)
    this.#dialer.learn(network.bootstrap)
    const dialer = this.#dialer
    network.on?.('offline', () => this.#events.emit('offline'))
    network.on?.('online', () => {
      dialer.online()
      this.#events.emit('online')
    })
    this.#keepalive = new Keepalive(clock, o, () => table.peers.values())
    this.#keepalive.start()
    this.#dialer.maintain()
    this.#reach.start(this.#reachPort, {
      clock,
      random: services.random ?? Math.random,
      discover: network.discover === undefined ? undefined : () => network.discover!(),
      // The mesh does not reach the node, so it cannot carry the negotiation either.
      bridge: (id) => {
        signaler.viaServer(id)
        return dialer.connect(id, () => this.#closing !== undefined)
      },
      connectionsLeft: () => network.transport.connectionsLeft ?? Number.POSITIVE_INFINITY,
    })
  }

  /**
   * The identity option: an Identity or key pair of the application's, 'ephemeral', or
   * 'persistent' (the injected store: IndexedDB). Without the option, persistent where a store is
   * injected; if the store fails then, the error is reported and a fresh identity used (asked
   * for explicitly, start-up fails with it instead).
   */
  async #loadIdentity(option: MeshOptions['identity']): Promise<Identity> {
    if (option instanceof Identity) return option
    if (typeof option === 'object' && option !== null) return Identity.fromKeyPair(option as IdentityKeyPair)
    const store = this.#services.identityStore
    if (option === 'ephemeral' || (option === undefined && store === undefined)) return Identity.generate()
    if (option !== undefined && option !== 'persistent') throw new MeshError('INVALID_ARGUMENT', `option identity: unknown value ${String(option)}`)
    if (store === undefined) throw new MeshError('INVALID_ARGUMENT', "identity 'persistent' needs an identity store (IndexedDB)")
    try {
      const stored = await store(this.#options.subnet)
      this.#releaseIdentity = () => stored.release()
      if (this.#closing !== undefined) stored.release()
      return stored.identity
    } catch (err: unknown) {
      if (option === 'persistent' || !(err instanceof P2PError)) throw err
      this.#report(err)
      return Identity.generate()
    }
  }

  /** What the peer table tells: peers come and go, messages, what was dropped. */
  #watch(table: PeerTable): void {
    table.on('peer', (id) => {
      this.#delivery.peer(id)
      this.#events.emit('peer', id)
      this.#resolveReady()
    })
    table.on('peer-left', (id, reason) => {
      this.#delivery.peerLeft(id, reason)
      this.#events.emit('peer-left', id, reason)
    })
    table.on('link-closed', (_peer, reason) => {
      if (reason instanceof MeshError && reason.code === 'BAD_FRAME') this.#counters.badFrames++
      if (reason instanceof MeshError) this.#report(reason)
    })
    table.on('bad-frame', (err) => {
      if (err.code === 'FORGED') this.#counters.forged++
      else this.#counters.badFrames++
      this.#report(err)
    })
    table.on('dropped', (why) => void (why === 'stale' ? this.#counters.stale++ : this.#counters.rateLimited++))
    table.on('error', (err) => this.#report(err))
  }

  /** The mesh's own link messages; protocol messages go to their owner (directly, or through the router). */
  #onMessage(peer: PeerLink, message: MeshMessage, frame: DecodedFrame): void {
    const { table, router } = this.#live!
    switch (message.kind) {
      case 'ping':
        return void peer.send({ kind: 'pong', nonce: message.nonce })
      case 'peers':
        this.#dialer?.learn(message.peers)
        return this.#dialer?.schedule(0)
      case 'peers-request':
        return void peer.send({ kind: 'peers', peers: table.ids(peer.remoteId) })
      case 'whisper':
        if (frame.sender !== peer.remoteId) {
          this.#counters.badFrames++
          return this.#report(new MeshError('BAD_FRAME', `neighbour ${peer.remoteId ?? '?'} sent a direct whisper as ${frame.sender}`, { peerId: peer.remoteId }))
        }
        return this.#delivery.deliver(message, frame, peer.remoteId)
      case 'broadcast':
      case 'routed-whisper':
      case 'routed-signal':
        return router.receive(peer, message, frame)
      default: // pong, handshake, auth
        return
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  #alive(): Live {
    if (this.#closing !== undefined) throw new MeshError('MESH_CLOSED', 'the mesh socket is closed')
    if (this.#live === undefined) throw new MeshError('INVALID_ARGUMENT', 'the mesh is starting: await ready() first')
    return this.#live
  }

  #relaySignal(to: string, blob: Record<string, unknown>): boolean {
    const live = this.#live
    if (live === undefined || live.table.peers.size === 0 || this.#closing !== undefined) return false
    void live.originator.originate({ kind: 'routed-signal', target: to, blob }, ({ body, id }) => live.router.route(body, id, to, true)).catch(() => {})
    return true
  }

  #report(err: P2PError): void {
    if (this.#events.listenerCount('error') > 0) this.#events.emit('error', err)
  }
}

export { MESH_DEFAULTS }
export type { MeshOptions, ReceivedMessage, IdentityStore, MeshEvents, MeshServices, MeshStats }
