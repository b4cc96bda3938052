import { TransportError } from '../../errors.js'
import { backoffDelay, isBackoffPolicy, type BackoffPolicy } from '../../util/backoff.js'
import { systemClock, type Clock, type TimerHandle } from '../../util/clock.js'
import { Emitter } from '../../util/emitter.js'
import type { Identity } from '../../wire/identity.js'
import type { Signaler } from '../types.js'
import { signalingEndpoints } from './challenge.js'
import { relayTypeOf, type ServerMessage } from './messages.js'
import { DEFAULT_MAX_MESSAGE_BYTES, MessageType, errorCodeForReason, isBase58Id } from './protocol.js'
import { SignalingSession, type SessionOutcome, type SessionParams, type SignalingSocketConstructor } from './session.js'

export type { SignalingSocket, SignalingSocketConstructor } from './session.js'
export type { BackoffPolicy } from '../../util/backoff.js'

export interface SignalingClientOptions {
  /** The signaling server, e.g. http://127.0.0.1:9000 (ws:// and path prefixes work too). */
  url: string
  /** The node's key pair; its id is the id registered. */
  identity: Identity
  /** The subnet's protocol id (`protocolId(subnet, transport)`): discovery and signaling stay inside it. */
  net: string
  /** WebSocket implementation. Default: the global WebSocket (browsers); pass `ws` in Node 20. */
  WebSocket?: SignalingSocketConstructor
  /** Bound on connect() as a whole, on each reconnect attempt and on each discover(). Default 10 000 ms. */
  timeoutMs?: number
  /**
   * Registering again, with the same identity, when the connection drops after connect()
   * (server restart, network loss, a heartbeat the server missed): `true` (the default) with
   * DEFAULT_RECONNECT, the parts of a BackoffPolicy to change, or `false`: a drop then closes
   * the client. Refusals that cannot succeed later, and REPLACED, close it either way.
   */
  reconnect?: boolean | Partial<BackoffPolicy>
  /** Random numbers in [0, 1) for the reconnect jitter. Default Math.random. */
  random?: () => number
  /** Time and timers (timeouts, heartbeats, reconnect delays). Default: the host's. */
  clock?: Clock
}

/** 'open': registered; 'reconnecting': the connection dropped and the client registers again; 'closed': for good. */
export type SignalingClientState = 'open' | 'reconnecting' | 'closed'

export type SignalingClientEvents = {
  /** A signal blob (a JSON object, unvalidated beyond that) from another node of the subnet. */
  signal: [from: string, data: unknown]
  /** A fresh sample of the subnet's peers (after discover(), and after a reconnect's welcome). */
  peers: [peers: string[]]
  /** Something the server refused or sent that was invalid; the connection stays up. */
  error: [err: TransportError]
  /** The server could not deliver a signal to `id` (UNKNOWN_PEER, or queued signals that expired): it is not connected. */
  unreachable: [id: string]
  /** The connection dropped and the client is registering again (state 'reconnecting'); `reason` says why it dropped. */
  offline: [reason: TransportError]
  /** Registered again after 'offline' (state 'open'): same id, fresh `peers` and `iceServers`. */
  online: []
  /**
   * Fired once. `reason` is undefined after close(), else why the client stopped: the server
   * ended the connection and reconnecting is off, or it refused in a way another attempt cannot
   * fix (AUTH_FAILED, ID_TAKEN, a malformed registration), or it replaced this session
   * (SIGNALING_CLOSED whose message names REPLACED: a newer registration of this id, with this
   * key and subnet, took the id over; the client does not reconnect then).
   */
  close: [reason: TransportError | undefined]
}

export const DEFAULT_SIGNALING_TIMEOUT_MS = 10_000
/** Reconnect delays: 250–500 ms before the first attempt, doubling to 15–30 s. */
export const DEFAULT_RECONNECT: Readonly<BackoffPolicy> = Object.freeze({ baseMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 })
const DISCOVER_FRAME = JSON.stringify({ type: MessageType.DISCOVER })
const encoder = new TextEncoder()

interface PendingDiscover {
  resolve: (peers: string[]) => void
  reject: (err: TransportError) => void
  timer: TimerHandle | undefined
  /** The DISCOVER frame's number on the current session; undefined until sent on it. */
  seq: number | undefined
}

/**
 * A node's connection to the signaling server: registers the node's id (proving it holds the
 * key), relays simple-peer signal objects to and from nodes of its subnet, and discovers
 * bootstrap peers. Registers again by itself, with backoff, when the connection drops.
 * Implements the transport's `Signaler`.
 */
export class SignalingClient implements Signaler {
  readonly localId: string
  readonly net: string
  readonly #params: SessionParams
  readonly #policy: BackoffPolicy | undefined
  readonly #random: () => number
  readonly #events = new Emitter<SignalingClientEvents>()
  readonly #discovers = new Set<PendingDiscover>()
  /** Aborts a registration in flight when the client closes. */
  readonly #cancel = new AbortController()
  #session: SignalingSession | undefined
  #state: SignalingClientState = 'open'
  #peers: string[] = []
  #iceServers: RTCIceServer[] = []
  #maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES
  /** Reconnect attempts since the last session that lasted (the backoff's attempt number). */
  #attempt = 0
  #retryTimer: TimerHandle | undefined
  /** The reconnect attempt running now, if any (close() waits for it to stop). */
  #retrying: Promise<void> | undefined
  #closing: Promise<void> | undefined

  /**
   * Registers with the server and resolves once it has welcomed this node. Does not retry:
   * reconnecting starts only once the client has been open.
   */
  static async connect(options: SignalingClientOptions): Promise<SignalingClient> {
    const { identity, net } = options
    if (!isBase58Id(net)) throw new TypeError('net must be a protocol id (base58)')
    const Socket = options.WebSocket ?? (globalThis.WebSocket as SignalingSocketConstructor | undefined)
    if (Socket === undefined) throw new TypeError('no global WebSocket: pass options.WebSocket (e.g. the ws package)')
    const policy = reconnectPolicy(options.reconnect)
    const params: SessionParams = {
      endpoints: signalingEndpoints(options.url),
      identity,
      net,
      Socket,
      timeoutMs: options.timeoutMs ?? DEFAULT_SIGNALING_TIMEOUT_MS,
      clock: options.clock ?? systemClock,
    }
    const outcome = await SignalingSession.open(params)
    if (!outcome.ok) throw outcome.error
    return new SignalingClient(outcome.session, params, policy, options.random ?? Math.random)
  }

  private constructor(session: SignalingSession, params: SessionParams, policy: BackoffPolicy | undefined, random: () => number) {
    this.localId = params.identity.id
    this.net = params.net
    this.#params = params
    this.#policy = policy
    this.#random = random
    this.#install(session)
    this.#attach(session)
  }

  /** Bootstrap peer ids of this subnet: from the (latest) welcome, then from the latest discover(). */
  get peers(): string[] {
    return [...this.#peers]
  }

  /** ICE servers the operator configured (empty if none), as of the latest welcome. */
  get iceServers(): RTCIceServer[] {
    return structuredClone(this.#iceServers)
  }

  get state(): SignalingClientState {
    return this.#state
  }

  on<K extends keyof SignalingClientEvents>(event: K, fn: (...args: SignalingClientEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  /**
   * Sends a signal blob (a JSON object: a simple-peer signal, or an envelope `{ d: signal }`)
   * to `to`, a node of this subnet, in an OFFER/ANSWER/CANDIDATE message by the signal's type.
   * Best effort: if the server cannot deliver it, an 'error' event (PEER_UNREACHABLE) follows;
   * while reconnecting it is dropped (the negotiation it belongs to times out).
   * Throws SIGNALING_CLOSED after close, INVALID_MESSAGE for a bad destination or a blob that
   * is not a JSON object, MESSAGE_TOO_LARGE over the server's message cap.
   */
  sendSignal(to: string, data: unknown): void {
    if (this.#state === 'closed') throw closedError()
    if (!isBase58Id(to)) throw new TransportError('INVALID_MESSAGE', 'signal destination is not a node id')
    const type = relayTypeOf(data)
    if (type === undefined) throw new TransportError('INVALID_MESSAGE', 'a signal blob is a JSON object')
    let frame: string
    try {
      frame = JSON.stringify({ type, dst: to, payload: data })
    } catch (err: unknown) {
      throw new TransportError('INVALID_MESSAGE', 'signal is not serializable as JSON', { cause: err })
    }
    if (frame.length > this.#maxMessageBytes || encoder.encode(frame).length > this.#maxMessageBytes) {
      throw new TransportError('MESSAGE_TOO_LARGE', `signal exceeds the server's ${this.#maxMessageBytes}-byte message cap`)
    }
    this.#session?.send(frame)
  }

  /**
   * Asks the server for a fresh random sample of this subnet's peers. While reconnecting, the
   * request waits for the new session (and one in flight when the connection drops is asked
   * again there), all within `timeoutMs`.
   */
  discover(): Promise<string[]> {
    if (this.#state === 'closed') return Promise.reject(closedError())
    const { clock, timeoutMs } = this.#params
    return new Promise<string[]>((resolve, reject) => {
      const pending: PendingDiscover = { resolve, reject, timer: undefined, seq: undefined }
      pending.timer = clock.setTimeout(() => {
        this.#discovers.delete(pending)
        reject(new TransportError('SIGNALING_TIMEOUT', `no answer to discover within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#discovers.add(pending)
      if (this.#session !== undefined) pending.seq = this.#session.send(DISCOVER_FRAME)
    })
  }

  /** Leaves the server. Idempotent; resolves once the socket is closed (or after a short wait). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const session = this.#session
      this.#stop(closedError())
      await Promise.all([session?.close(), this.#retrying])
      this.#events.emitLast('close', undefined)
    })()
    return this.#closing
  }

  /** Takes `session`'s welcome as the client's; the session's frames wait for #attach. */
  #install(session: SignalingSession): void {
    const welcome = session.welcome
    this.#session = session
    this.#peers = welcome.peers.filter((id) => id !== this.localId)
    this.#iceServers = welcome.iceServers
    this.#maxMessageBytes = welcome.maxMessageBytes
    this.#state = 'open'
    for (const pending of this.#discovers) pending.seq ??= session.send(DISCOVER_FRAME)
  }

  #attach(session: SignalingSession): void {
    session.attach({
      frame: (msg) => {
        if (session === this.#session) this.#onFrame(msg)
      },
      end: (reason, final) => {
        if (session === this.#session) this.#onEnd(session, reason, final)
      },
    })
  }

  #onFrame(msg: ServerMessage): void {
    switch (msg.type) {
      case 'INVALID':
        this.#events.emit('error', new TransportError('INVALID_MESSAGE', `invalid message from the signaling server: ${msg.why}`))
        return
      case 'PEERS': {
        this.#peers = msg.peers.filter((id) => id !== this.localId)
        this.#takeDiscover(msg.seq)?.resolve(this.peers)
        this.#events.emit('peers', this.peers)
        return
      }
      case 'SIGNAL':
        this.#events.emit('signal', msg.from, msg.signal)
        return
      case 'REFUSED': {
        const detail = [msg.reason, msg.dst, msg.msg].filter((s) => s !== undefined && s !== '').join(': ')
        const err = new TransportError(errorCodeForReason(msg.reason), `signaling server refused: ${detail || 'no reason given'}`)
        const pending = this.#takeDiscover(msg.seq)
        if (pending !== undefined) return pending.reject(err)
        this.#events.emit('error', err)
        if (msg.reason === 'UNKNOWN_PEER' && msg.dst !== undefined) this.#events.emit('unreachable', msg.dst)
        return
      }
      case 'PEER_GONE':
        this.#events.emit('error', new TransportError('PEER_UNREACHABLE', `peer ${msg.peer} is gone`))
        this.#events.emit('unreachable', msg.peer)
        return
      default:
        return
    }
  }

  /** The pending discover the current session's frame `seq` answers, removed from the set. */
  #takeDiscover(seq: number | undefined): PendingDiscover | undefined {
    if (seq === undefined) return undefined
    for (const pending of this.#discovers) {
      if (pending.seq !== seq) continue
      this.#discovers.delete(pending)
      this.#params.clock.clearTimeout(pending.timer)
      return pending
    }
    return undefined
  }

  /** The current session ended without close(): register again, or close for good. */
  #onEnd(session: SignalingSession, reason: TransportError, final: boolean): void {
    this.#session = undefined
    for (const pending of this.#discovers) pending.seq = undefined
    const policy = this.#policy
    if (final || policy === undefined) {
      this.#finish(reason)
      return
    }
    // A session that lasted starts the backoff over; one dropped soon after its welcome does not.
    if (this.#params.clock.now() - session.openedAt >= policy.maxMs) this.#attempt = 0
    this.#state = 'reconnecting'
    this.#scheduleRetry(policy)
    this.#events.emit('offline', reason)
  }

  #scheduleRetry(policy: BackoffPolicy): void {
    const delay = backoffDelay(policy, this.#attempt++, this.#random())
    this.#retryTimer = this.#params.clock.setTimeout(() => {
      this.#retrying = this.#retry(policy).finally(() => (this.#retrying = undefined))
    }, delay)
  }

  async #retry(policy: BackoffPolicy): Promise<void> {
    this.#retryTimer = undefined
    if (this.#state !== 'reconnecting') return
    let outcome: SessionOutcome
    try {
      outcome = await SignalingSession.open(this.#params, this.#cancel.signal)
    } catch (err: unknown) {
      outcome = { ok: false, error: new TransportError('AUTH_FAILED', 'cannot sign the registration', { cause: err }), final: true }
    }
    if (this.#state !== 'reconnecting') {
      if (outcome.ok) void outcome.session.close()
      return
    }
    if (!outcome.ok) {
      if (outcome.final) this.#finish(outcome.error)
      else this.#scheduleRetry(policy)
      return
    }
    this.#install(outcome.session)
    this.#events.emit('online')
    if (this.#session === outcome.session) this.#events.emit('peers', this.peers)
    this.#attach(outcome.session)
  }

  /** Stops for good: 'closed', no retry, pending discovers rejected with `reason`. */
  #stop(reason: TransportError): void {
    this.#state = 'closed'
    this.#session = undefined
    this.#params.clock.clearTimeout(this.#retryTimer)
    this.#cancel.abort()
    for (const pending of this.#discovers) {
      this.#params.clock.clearTimeout(pending.timer)
      pending.reject(reason)
    }
    this.#discovers.clear()
  }

  /** The client ends on its own (not close()): it emits 'close' with why. */
  #finish(reason: TransportError): void {
    this.#stop(reason)
    this.#closing = Promise.resolve()
    this.#events.emitLast('close', reason)
  }
}

function closedError(): TransportError {
  return new TransportError('SIGNALING_CLOSED', 'the signaling connection is closed')
}

function reconnectPolicy(option: boolean | Partial<BackoffPolicy> | undefined): BackoffPolicy | undefined {
  if (option === false) return undefined
  const policy = option === undefined || option === true ? { ...DEFAULT_RECONNECT } : { ...DEFAULT_RECONNECT, ...option }
  if (!isBackoffPolicy(policy)) {
    throw new TransportError('INVALID_OPTION', 'reconnect: baseMs >= 0, maxMs >= baseMs, factor >= 1, jitter in [0, 1], all finite')
  }
  return policy
}
