import type { PeersPayload, RefusalPayload, WelcomePayload } from '../src/transport/signaling/messages.js'
import { CLOSE_CODES, CLOSE_REPLACED, MessageType, REPLACED_CLOSE_REASON, type RefusalReason } from '../src/transport/signaling/protocol.js'
import { authenticate, parseRegistration } from './auth.js'
import { HEARTBEAT_FRAME, decodeClientMessage, relayFrame } from './client-messages.js'
import { NonceIssuer } from './nonces.js'
import type { ResolvedOptions } from './options.js'
import { KeyedRateLimiter, TokenBucket, perWindow } from './rate-limit.js'
import { SessionRegistry, type Session } from './registry.js'

/**
 * The policy of the signaling server, apart from its sockets: who may register (challenge,
 * admission, takeover of a live id), what a registered client may send (the message gate),
 * and discovery. The PeerJS server does the rest: OPEN, relaying, heartbeat expiry.
 *
 * One session per id. A registration proves the id's key with a fresh nonce, so a new one for
 * a live id in the same subnet replaces the live session (a reload or a crash must not lock a
 * node out until the dead socket expires); in another subnet it is refused with ID_TAKEN.
 */

/** What the hub needs of a WebSocket (ws's satisfies it). */
export interface HubSocket {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
}

const OPEN = 1

export type Admission = { ok: true; id: string; net: string; ip: string } | { ok: false; reason: RefusalReason }

interface LiveSession extends Session<HubSocket> {
  readonly bucket: TokenBucket
  /** Frames received since admission: the `seq` of the latest one. */
  received: number
  /** Frames refused for rate in a row. */
  strikes: number
  /** It replaced a live session of its id (PeerJS then swaps sockets without sending OPEN). */
  readonly takeover: boolean
}

export interface HubServices {
  now: () => number
  random: () => number
  log: (message: string, detail?: unknown) => void
}

export class SignalingHub {
  readonly #options: ResolvedOptions
  readonly #services: HubServices
  readonly #registry = new SessionRegistry<HubSocket>()
  readonly #bySocket = new WeakMap<HubSocket, LiveSession>()
  readonly #attempts: KeyedRateLimiter
  readonly #nonces: NonceIssuer

  constructor(options: ResolvedOptions, services: HubServices) {
    this.#options = options
    this.#services = services
    this.#attempts = new KeyedRateLimiter(perWindow(options.connectAttemptsPerMinute, 60_000), services.now)
    this.#nonces = new NonceIssuer({ ttlMs: options.nonceTtlMs, now: services.now })
  }

  /** Registered clients. */
  get size(): number {
    return this.#registry.size
  }

  /** GET /p2p/challenge. */
  challenge(ip: string): { status: number; body: { nonce: string; expiresInMs: number } | { reason: RefusalReason; msg: string } } {
    if (!this.#attempts.take(ip)) return { status: 429, body: { reason: 'RATE_LIMITED', msg: 'too many attempts from this address' } }
    if (this.#registry.size >= this.#options.maxClients) return { status: 503, body: { reason: 'SERVER_FULL', msg: 'server is full' } }
    return { status: 200, body: { nonce: this.#nonces.issue(), expiresInMs: this.#nonces.ttlMs } }
  }

  /** Runs in ws verifyClient, before the upgrade completes and before PeerJS sees the id. */
  async verify(ip: string, url: string | undefined): Promise<Admission> {
    if (!this.#attempts.take(ip)) return { ok: false, reason: 'RATE_LIMITED' }
    const reg = parseRegistration(url)
    if (reg === undefined) return { ok: false, reason: 'BAD_REQUEST' }
    // Before the signature check, which is the expensive part; ID_TAKEN only after it, so
    // that only the key holder learns where its id is live.
    const capacity = this.#capacityRefusal(ip, this.#sameNet(reg.id, reg.net))
    if (capacity !== undefined) return { ok: false, reason: capacity }
    const refusal = await authenticate(reg, this.#nonces)
    if (refusal !== undefined) return { ok: false, reason: refusal }
    return { ok: true, id: reg.id, net: reg.net, ip }
  }

  /**
   * Runs when the upgraded socket is handed over, synchronously: re-checks the id and capacity
   * (state may have changed while the signature was verified), replaces a live session of the
   * id in the same subnet (see #supersede), then registers the session. On refusal the socket
   * is told why and closed, and undefined is returned.
   */
  admit(socket: HubSocket, admission: Admission): LiveSession | undefined {
    if (!admission.ok) {
      this.refuse(socket, admission.reason)
      return undefined
    }
    const live = this.#registry.get(admission.id)
    const reason = live !== undefined && live.net !== admission.net ? 'ID_TAKEN' : this.#capacityRefusal(admission.ip, live)
    if (reason !== undefined) {
      this.refuse(socket, reason)
      return undefined
    }
    if (live !== undefined) this.#supersede(live)
    const { now } = this.#services
    const bucket = new TokenBucket({ capacity: this.#options.messageBurst, perMs: this.#options.messagesPerSecond / 1000 }, now())
    const session: LiveSession = {
      id: admission.id,
      net: admission.net,
      ip: admission.ip,
      socket,
      bucket,
      received: 0,
      strikes: 0,
      takeover: live !== undefined,
    }
    this.#registry.add(session)
    this.#bySocket.set(socket, session)
    return session
  }

  /**
   * Forgets `old` at once and closes its socket with CLOSE_REPLACED. Whatever its socket does
   * later is inert: its frames find no session at the gate, and its 'close' (release) finds
   * nothing to remove. PeerJS, given the same token for the id, swaps the new socket into the
   * id's client and ignores the old socket's close.
   */
  #supersede(old: Session<HubSocket>): void {
    this.#bySocket.delete(old.socket)
    this.#registry.remove(old)
    try {
      old.socket.close(CLOSE_REPLACED, REPLACED_CLOSE_REASON)
    } catch (err: unknown) {
      this.#services.log('close failed', err)
    }
  }

  /** Forgets the session on `socket` (socket closed or expired). Idempotent. */
  release(socket: HubSocket): void {
    const session = this.#bySocket.get(socket)
    if (session === undefined) return
    this.#bySocket.delete(socket)
    this.#registry.remove(session)
  }

  /**
   * PeerJS dropped `id` (its 'disconnect' event). If the session's socket is no longer open
   * (PeerJS expired it and started closing it), the session is released at once: its id,
   * its subnet slot and its per-IP slot are free, and frames still arriving are dropped.
   * After an ordinary close the socket's own 'close' released it already.
   */
  expire(id: string): void {
    const session = this.#registry.get(id)
    if (session !== undefined && session.socket.readyState !== OPEN) this.release(session.socket)
  }

  /**
   * Sends P2P-WELCOME; called once PeerJS has registered the socket. PeerJS sent OPEN for a
   * new id; for a takeover it swapped sockets silently, so OPEN is sent here.
   */
  welcome(socket: HubSocket): void {
    const session = this.#bySocket.get(socket)
    if (session === undefined) return
    if (session.takeover) send(socket, { type: MessageType.OPEN })
    const payload: WelcomePayload = {
      id: session.id,
      net: session.net,
      peers: this.#sample(session),
      iceServers: this.#options.iceServers,
      heartbeatMs: Math.max(50, Math.floor(this.#options.aliveTimeoutMs / 3)),
      maxMessageBytes: this.#options.maxMessageBytes,
    }
    send(socket, { type: MessageType.WELCOME, payload })
  }

  /**
   * The message gate. Returns the frame to hand to PeerJS, or undefined when the hub answered
   * or refused the message itself.
   */
  gate(socket: HubSocket, data: unknown, isBinary: boolean): string | undefined {
    const session = this.#bySocket.get(socket)
    if (session === undefined) return undefined
    const seq = ++session.received
    if (!session.bucket.take(this.#services.now())) {
      session.strikes++
      if (session.strikes >= this.#options.messageBurst) {
        this.#services.log('closing a socket that kept flooding', { id: session.id, ip: session.ip })
        this.refuse(socket, 'RATE_LIMITED', { seq })
      } else {
        this.#refuseMessage(socket, 'RATE_LIMITED', 'message rate exceeded', { seq })
      }
      return undefined
    }
    session.strikes = 0
    const msg = decodeClientMessage(data, isBinary, this.#options.maxMessageBytes)
    switch (msg.kind) {
      case 'invalid':
        this.#refuseMessage(socket, 'INVALID_MESSAGE', msg.why, { seq })
        return undefined
      case 'heartbeat':
        return HEARTBEAT_FRAME
      case 'discover': {
        const payload: PeersPayload = { seq, peers: this.#sample(session) }
        send(socket, { type: MessageType.PEERS, payload })
        return undefined
      }
      case 'relay':
        if (!this.#registry.canRelay(session, msg.dst)) {
          // Same answer for "no such id" and "id in another subnet": subnets do not leak.
          this.#refuseMessage(socket, 'UNKNOWN_PEER', 'no such peer in your network', { seq, dst: msg.dst })
          return undefined
        }
        return relayFrame(msg)
    }
  }

  /** Refuses a connection: ERROR (or ID-TAKEN) with the reason, then a close with its code. */
  refuse(socket: HubSocket, reason: RefusalReason, extra: { seq?: number } = {}): void {
    const payload: RefusalPayload = { msg: describe(reason), reason, ...extra }
    send(socket, { type: reason === 'ID_TAKEN' ? MessageType.ID_TAKEN : MessageType.ERROR, payload })
    try {
      socket.close(CLOSE_CODES[reason], reason)
    } catch (err: unknown) {
      this.#services.log('close failed', err)
    }
  }

  #refuseMessage(socket: HubSocket, reason: RefusalReason, msg: string, extra: { seq: number; dst?: string }): void {
    const payload: RefusalPayload = { msg, reason, ...extra }
    send(socket, { type: MessageType.ERROR, payload })
  }

  /** Capacity for one more session from `ip`; a takeover of `replacing` frees its own slots. */
  #capacityRefusal(ip: string, replacing?: Session<HubSocket>): RefusalReason | undefined {
    if (replacing === undefined && this.#registry.size >= this.#options.maxClients) return 'SERVER_FULL'
    const freed = replacing?.ip === ip ? 1 : 0
    if (this.#registry.countIp(ip) - freed >= this.#options.maxClientsPerIp) return 'RATE_LIMITED'
    return undefined
  }

  /** The live session of `id` if it is in `net` (one a registration would replace). */
  #sameNet(id: string, net: string): Session<HubSocket> | undefined {
    const live = this.#registry.get(id)
    return live?.net === net ? live : undefined
  }

  #sample(session: LiveSession): string[] {
    return this.#registry.sample(session.net, session.id, this.#options.discoveryLimit, this.#services.random)
  }
}

function send(socket: HubSocket, message: { type: string; payload?: unknown }): void {
  if (socket.readyState === OPEN) socket.send(JSON.stringify(message))
}

function describe(reason: RefusalReason): string {
  switch (reason) {
    case 'BAD_REQUEST':
      return 'missing, repeated or malformed registration parameters'
    case 'BAD_SIGNATURE':
      return 'the signature does not verify with the given public key'
    case 'ID_MISMATCH':
      return 'the id is not the node id of the given public key'
    case 'STALE_NONCE':
      return 'the nonce is unknown, expired or already used: fetch a new challenge'
    case 'ID_TAKEN':
      return 'the id is live in another subnet on this server'
    case 'RATE_LIMITED':
      return 'too many connections or messages: slow down'
    case 'SERVER_FULL':
      return 'server has reached its client limit'
    case 'INVALID_MESSAGE':
      return 'invalid message'
    case 'UNKNOWN_PEER':
      return 'no such peer in your network'
  }
}
