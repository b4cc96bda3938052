import { TransportError } from '../../errors.js'
import { Emitter } from '../../util/emitter.js'
import type { Identity } from '../../wire/identity.js'
import type { Signaler } from '../types.js'
import { toBase64url } from './base64url.js'
import { fetchChallenge, registrationUrl, signalingEndpoints } from './challenge.js'
import { decodeServerMessage, relayTypeOf, type ServerMessage } from './messages.js'
import {
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_REPLACED,
  DEFAULT_MAX_MESSAGE_BYTES,
  MessageType,
  REPLACED_CLOSE_REASON,
  errorCodeForReason,
  isBase58Id,
  reasonForCloseCode,
  registrationMessage,
} from './protocol.js'

/** The part of the WebSocket API the client uses: the browser's WebSocket and `ws` both fit. */
export interface SignalingSocket {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'open' | 'error', listener: () => void): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
  addEventListener(type: 'close', listener: (event: { code: number }) => void): void
}
export type SignalingSocketConstructor = new (url: string) => SignalingSocket

export interface SignalingClientOptions {
  /** The signaling server, e.g. http://127.0.0.1:9000 (ws:// and path prefixes work too). */
  url: string
  /** The node's key pair; its id is the id registered. */
  identity: Identity
  /** The subnet's protocol id (`protocolId(subnet, transport)`): discovery and signaling stay inside it. */
  net: string
  /** WebSocket implementation. Default: the global WebSocket (browsers); pass `ws` in Node 20. */
  WebSocket?: SignalingSocketConstructor
  /** Bound on connect() as a whole and on each discover(). Default 10 000 ms. */
  timeoutMs?: number
}

export type SignalingClientEvents = {
  /** A signal blob (a JSON object, unvalidated beyond that) from another node of the subnet. */
  signal: [from: string, data: unknown]
  /** A fresh sample of the subnet's peers (after discover()). */
  peers: [peers: string[]]
  /** Something the server refused or sent that was invalid; the connection stays up. */
  error: [err: TransportError]
  /**
   * Fired once. `reason` is undefined after close(), else why the server ended it (e.g.
   * SIGNALING_CLOSED; its message names REPLACED when a newer registration of this id, with
   * this key and subnet, took the id over: do not reconnect automatically then).
   */
  close: [reason: TransportError | undefined]
}

export const DEFAULT_SIGNALING_TIMEOUT_MS = 10_000
/** close() waits at most this long for the server to acknowledge. */
const CLOSE_WAIT_MS = 1000
const HEARTBEAT_FRAME = JSON.stringify({ type: MessageType.HEARTBEAT })
const DISCOVER_FRAME = JSON.stringify({ type: MessageType.DISCOVER })
const encoder = new TextEncoder()

interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (err: unknown) => void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {})
  return { promise, resolve, reject }
}

interface PendingDiscover {
  resolve: (peers: string[]) => void
  reject: (err: TransportError) => void
  timer: ReturnType<typeof setTimeout>
}

/**
 * A node's connection to the signaling server: registers the node's id (proving it holds the
 * key), relays simple-peer signal objects to and from nodes of its subnet, and discovers
 * bootstrap peers. Implements the transport's `Signaler`.
 */
export class SignalingClient implements Signaler {
  readonly localId: string
  readonly net: string
  readonly #socket: SignalingSocket
  readonly #timeoutMs: number
  readonly #events = new Emitter<SignalingClientEvents>()
  readonly #ready = deferred<void>()
  readonly #socketClosed = deferred<void>()
  readonly #discovers = new Map<number, PendingDiscover>()
  #state: 'connecting' | 'open' | 'closed' = 'connecting'
  #transportOpen = false
  #peers: string[] = []
  #iceServers: RTCIceServer[] = []
  #maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES
  #heartbeat: ReturnType<typeof setInterval> | undefined
  #sent = 0
  #closing: Promise<void> | undefined

  /** Registers with the server and resolves once it has welcomed this node. */
  static async connect(options: SignalingClientOptions): Promise<SignalingClient> {
    const { identity, net } = options
    if (!isBase58Id(net)) throw new TypeError('net must be a protocol id (base58)')
    const timeoutMs = options.timeoutMs ?? DEFAULT_SIGNALING_TIMEOUT_MS
    const Socket = options.WebSocket ?? (globalThis.WebSocket as SignalingSocketConstructor | undefined)
    if (Socket === undefined) throw new TypeError('no global WebSocket: pass options.WebSocket (e.g. the ws package)')
    const endpoints = signalingEndpoints(options.url)

    const abort = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort()
        reject(new TransportError('SIGNALING_TIMEOUT', `signaling server did not welcome us within ${timeoutMs} ms`))
      }, timeoutMs)
    })
    deadline.catch(() => {})
    let client: SignalingClient | undefined
    try {
      const nonce = await Promise.race([fetchChallenge(endpoints.challenge, abort.signal), deadline])
      const signature = await Promise.race([identity.sign(registrationMessage(nonce, identity.id, net)), deadline])
      const url = registrationUrl(endpoints.socket, {
        id: identity.id,
        token: toBase64url(crypto.getRandomValues(new Uint8Array(16))),
        net,
        pub: toBase64url(identity.publicKey),
        nonce,
        sig: toBase64url(signature),
      })
      let socket: SignalingSocket
      try {
        socket = new Socket(url)
      } catch (err: unknown) {
        throw new TransportError('SIGNALING_UNREACHABLE', 'cannot open the signaling WebSocket', { cause: err })
      }
      client = new SignalingClient(socket, identity.id, net, timeoutMs)
      await Promise.race([client.#ready.promise, deadline])
      return client
    } catch (err: unknown) {
      if (client !== undefined) client.#abandon()
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  private constructor(socket: SignalingSocket, localId: string, net: string, timeoutMs: number) {
    this.#socket = socket
    this.localId = localId
    this.net = net
    this.#timeoutMs = timeoutMs
    socket.addEventListener('open', () => {
      this.#transportOpen = true
    })
    socket.addEventListener('message', (event) => this.#onFrame(event.data))
    socket.addEventListener('close', (event) => this.#onSocketClose(event.code))
    // An 'error' is always followed by 'close', which carries what can be known.
    socket.addEventListener('error', () => {})
  }

  /** Bootstrap peer ids of this subnet: from the welcome, then from the latest discover(). */
  get peers(): string[] {
    return [...this.#peers]
  }

  /** ICE servers the operator configured (empty if none). */
  get iceServers(): RTCIceServer[] {
    return structuredClone(this.#iceServers)
  }

  get state(): 'open' | 'closed' {
    return this.#state === 'open' ? 'open' : 'closed'
  }

  on<K extends keyof SignalingClientEvents>(event: K, fn: (...args: SignalingClientEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  /**
   * Sends a signal blob (a JSON object: a simple-peer signal, or an envelope `{ d: signal }`)
   * to `to`, a node of this subnet, in an OFFER/ANSWER/CANDIDATE message by the signal's type.
   * Best effort: if the server cannot deliver it, an 'error' event (PEER_UNREACHABLE) follows.
   * Throws SIGNALING_CLOSED after close, INVALID_MESSAGE for a bad destination or a blob that
   * is not a JSON object, MESSAGE_TOO_LARGE over the server's message cap.
   */
  sendSignal(to: string, data: unknown): void {
    this.#assertOpen()
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
    this.#send(frame)
  }

  /** Asks the server for a fresh random sample of this subnet's peers. */
  discover(): Promise<string[]> {
    try {
      this.#assertOpen()
    } catch (err: unknown) {
      return Promise.reject(err)
    }
    const seq = this.#send(DISCOVER_FRAME)
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#discovers.delete(seq)
        reject(new TransportError('SIGNALING_TIMEOUT', `no answer to discover within ${this.#timeoutMs} ms`))
      }, this.#timeoutMs)
      this.#discovers.set(seq, { resolve, reject, timer })
    })
  }

  /** Leaves the server. Idempotent; resolves once the socket is closed (or after a short wait). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#state === 'closed') return
      this.#abandon()
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([this.#socketClosed.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))])
      clearTimeout(timer)
      this.#events.emit('close', undefined)
      this.#events.removeAll()
    })()
    return this.#closing
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new TransportError('SIGNALING_CLOSED', 'the signaling connection is closed')
  }

  /** Sends one frame; returns its number (the server numbers frames the same way). */
  #send(frame: string): number {
    try {
      this.#socket.send(frame)
    } catch {
      // A socket that is going away: its close event will follow.
    }
    return ++this.#sent
  }

  #onFrame(data: unknown): void {
    if (this.#state === 'closed') return
    const msg = decodeServerMessage(data, this.#maxMessageBytes + 1024)
    switch (msg.type) {
      case 'INVALID':
        this.#problem(new TransportError('INVALID_MESSAGE', `invalid message from the signaling server: ${msg.why}`))
        return
      case 'WELCOME':
        this.#onWelcome(msg)
        return
      case 'PEERS': {
        this.#peers = msg.peers.filter((id) => id !== this.localId)
        const pending = msg.seq === undefined ? undefined : this.#discovers.get(msg.seq)
        if (pending !== undefined && msg.seq !== undefined) {
          this.#discovers.delete(msg.seq)
          clearTimeout(pending.timer)
          pending.resolve(this.peers)
        }
        this.#events.emit('peers', this.peers)
        return
      }
      case 'SIGNAL':
        if (this.#state === 'open') this.#events.emit('signal', msg.from, msg.signal)
        return
      case 'REFUSED':
        this.#onRefused(msg)
        return
      case 'PEER_GONE':
        if (this.#state === 'open') this.#events.emit('error', new TransportError('PEER_UNREACHABLE', `peer ${msg.peer} is gone`))
        return
      case 'OPEN':
      case 'IGNORED':
        return
    }
  }

  #onWelcome(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    if (this.#state !== 'connecting') return
    if (msg.id !== this.localId || msg.net !== this.net) {
      this.#problem(new TransportError('INVALID_MESSAGE', 'the server welcomed another id or network'))
      return
    }
    this.#peers = msg.peers.filter((id) => id !== this.localId)
    this.#iceServers = msg.iceServers
    this.#maxMessageBytes = msg.maxMessageBytes
    this.#state = 'open'
    this.#heartbeat = setInterval(() => this.#send(HEARTBEAT_FRAME), msg.heartbeatMs)
    this.#ready.resolve()
  }

  #onRefused(msg: Extract<ServerMessage, { type: 'REFUSED' }>): void {
    const detail = [msg.reason, msg.dst, msg.msg].filter((s) => s !== undefined && s !== '').join(': ')
    const err = new TransportError(errorCodeForReason(msg.reason), `signaling server refused: ${detail || 'no reason given'}`)
    if (this.#state === 'connecting') {
      this.#ready.reject(err)
      this.#abandon()
      return
    }
    const pending = msg.seq === undefined ? undefined : this.#discovers.get(msg.seq)
    if (pending !== undefined && msg.seq !== undefined) {
      this.#discovers.delete(msg.seq)
      clearTimeout(pending.timer)
      pending.reject(err)
      return
    }
    this.#events.emit('error', err)
  }

  /** Invalid input from the server: fatal while connecting, reported once open. */
  #problem(err: TransportError): void {
    if (this.#state === 'connecting') {
      this.#ready.reject(err)
      this.#abandon()
    } else {
      this.#events.emit('error', err)
    }
  }

  #onSocketClose(code: number): void {
    this.#socketClosed.resolve()
    if (this.#state === 'closed') return
    const reason = reasonForCloseCode(code)
    if (this.#state === 'connecting') {
      const errorCode = reason !== undefined ? errorCodeForReason(reason) : this.#transportOpen ? 'SIGNALING_CLOSED' : 'SIGNALING_UNREACHABLE'
      this.#ready.reject(new TransportError(errorCode, `signaling connection closed before welcome (code ${code})`))
      this.#abandon()
      return
    }
    if (code === CLOSE_REPLACED) {
      const msg = `signaling session ${REPLACED_CLOSE_REASON}: this id registered again with its key (code ${code})`
      this.#abandon(new TransportError('SIGNALING_CLOSED', msg))
      return
    }
    const errorCode = code === CLOSE_MESSAGE_TOO_BIG ? 'MESSAGE_TOO_LARGE' : reason !== undefined ? errorCodeForReason(reason) : 'SIGNALING_CLOSED'
    this.#abandon(new TransportError(errorCode, `signaling connection closed by the server (code ${code})`))
  }

  /**
   * Stops everything: timers, pending discovers, the socket. With `reason` (the server ended
   * the connection) it also emits 'close'; close() emits its own once the socket is down.
   */
  #abandon(reason?: TransportError): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    clearInterval(this.#heartbeat)
    for (const pending of this.#discovers.values()) {
      clearTimeout(pending.timer)
      pending.reject(reason ?? new TransportError('SIGNALING_CLOSED', 'the signaling connection was closed'))
    }
    this.#discovers.clear()
    if (this.#socket.readyState <= 1) {
      try {
        this.#socket.close(1000)
      } catch {
        // Already failing; the close event will come.
      }
    }
    if (reason !== undefined) {
      this.#closing = Promise.resolve()
      this.#events.emit('close', reason)
      this.#events.removeAll()
    }
  }
}
