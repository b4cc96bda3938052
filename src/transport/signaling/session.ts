import { TransportError } from '../../errors.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import type { Identity } from '../../wire/identity.js'
import { toBase64url } from './base64url.js'
import { fetchChallenge, registrationUrl, type SignalingEndpoints } from './challenge.js'
import { decodeServerMessage, type ServerMessage, type WelcomePayload } from './messages.js'
import {
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_REPLACED,
  DEFAULT_MAX_MESSAGE_BYTES,
  MessageType,
  REPLACED_CLOSE_REASON,
  errorCodeForReason,
  reasonForCloseCode,
  registrationMessage,
  type RefusalReason,
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

/** What one registration needs. */
export interface SessionParams {
  endpoints: SignalingEndpoints
  identity: Identity
  net: string
  Socket: SignalingSocketConstructor
  /** Bound on the registration as a whole (challenge, signature, WebSocket, welcome). */
  timeoutMs: number
  clock: Clock
}

/** What the owner of an open session hears from it. */
export interface SessionHandlers {
  /** A frame after the welcome, decoded (possibly INVALID). */
  frame(msg: ServerMessage): void
  /**
   * The session ended without close() being called: the server closed it, the network lost it
   * or the heartbeat found the host had slept. `final` when registering again cannot help.
   */
  end(reason: TransportError, final: boolean): void
}

export type SessionOutcome = { ok: true; session: SignalingSession } | { ok: false; error: TransportError; final: boolean }

/**
 * Refusals that registering again with the same identity, subnet and URL cannot overcome:
 * a malformed registration, a signature the server rejects, an id live in another subnet.
 * Every other refusal (STALE_NONCE: a fresh nonce fixes it; RATE_LIMITED, SERVER_FULL: they
 * pass; INVALID_MESSAGE, UNKNOWN_PEER) and every network failure is worth another attempt.
 */
const FINAL_REFUSALS: ReadonlySet<RefusalReason> = new Set<RefusalReason>(['BAD_REQUEST', 'BAD_SIGNATURE', 'ID_MISMATCH', 'ID_TAKEN'])

export function isFinalRefusal(reason: RefusalReason | undefined): boolean {
  return reason !== undefined && FINAL_REFUSALS.has(reason)
}

/** close() waits at most this long for the server to acknowledge. */
export const CLOSE_WAIT_MS = 1000
/**
 * A heartbeat that comes this many intervals after the previous one means the host slept (or
 * the page was frozen) past the server's alive timeout, which is three intervals: the server
 * has dropped the session, whatever the socket says.
 */
export const HEARTBEAT_MISSES = 3
const HEARTBEAT_FRAME = JSON.stringify({ type: MessageType.HEARTBEAT })

function failure(error: TransportError, final: boolean): SessionOutcome {
  return { ok: false, error, final }
}

/**
 * One registration with the signaling server: the challenge, the signed registration, one
 * WebSocket and its heartbeat. It ends once; the client makes a new one to reconnect.
 */
export class SignalingSession {
  readonly #socket: SignalingSocket
  readonly #params: SessionParams
  readonly #registered: Promise<SessionOutcome>
  #settle: (outcome: SessionOutcome) => void = () => {}
  #welcome: WelcomePayload | undefined
  #phase: 'registering' | 'open' | 'ended' = 'registering'
  #transportOpen = false
  #handlers: SessionHandlers | undefined
  readonly #queued: ((handlers: SessionHandlers) => void)[] = []
  #heartbeat: TimerHandle | undefined
  #lastBeat = 0
  #openedAt = 0
  #sent = 0
  #socketClosed: () => void = () => {}
  readonly #closed = new Promise<void>((resolve) => (this.#socketClosed = resolve))

  /**
   * Registers `params.identity`. Never rejects for a registration that failed (its outcome
   * says why, and whether another attempt could succeed); rejects only if the identity cannot
   * sign. `cancel` aborts it (outcome: SIGNALING_CLOSED, final).
   */
  static async open(params: SessionParams, cancel?: AbortSignal): Promise<SessionOutcome> {
    const { endpoints, identity, net, Socket, timeoutMs, clock } = params
    const abort = new AbortController()
    let stopped: SessionOutcome | undefined
    const stop = (outcome: SessionOutcome): void => {
      stopped ??= outcome
      abort.abort()
    }
    const aborted = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason)))
    aborted.catch(() => {})
    const timer = clock.setTimeout(
      () => stop(failure(new TransportError('SIGNALING_TIMEOUT', `signaling server did not welcome us within ${timeoutMs} ms`), false)),
      timeoutMs,
    )
    const onCancel = (): void => stop(failure(new TransportError('SIGNALING_CLOSED', 'the signaling client was closed'), true))
    cancel?.addEventListener('abort', onCancel)
    if (cancel?.aborted === true) onCancel()
    let session: SignalingSession | undefined
    try {
      const nonce = await Promise.race([fetchChallenge(endpoints.challenge, abort.signal), aborted])
      const signature = await Promise.race([identity.sign(registrationMessage(nonce, identity.id, net)), aborted])
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
        return failure(new TransportError('SIGNALING_UNREACHABLE', 'cannot open the signaling WebSocket', { cause: err }), false)
      }
      session = new SignalingSession(socket, params)
      const outcome = await Promise.race([session.#registered, aborted])
      if (!outcome.ok) session.#drop()
      return outcome
    } catch (err: unknown) {
      if (session !== undefined) session.#drop()
      if (stopped !== undefined) return stopped
      // The challenge's failures are all transient (unreachable, rate limited, full, malformed).
      if (err instanceof TransportError) return failure(err, false)
      throw err
    } finally {
      clock.clearTimeout(timer)
      cancel?.removeEventListener('abort', onCancel)
    }
  }

  private constructor(socket: SignalingSocket, params: SessionParams) {
    this.#socket = socket
    this.#params = params
    this.#registered = new Promise((resolve) => (this.#settle = resolve))
    socket.addEventListener('open', () => {
      this.#transportOpen = true
    })
    socket.addEventListener('message', (event) => this.#onFrame(event.data))
    socket.addEventListener('close', (event) => this.#onSocketClose(event.code))
    // An 'error' is always followed by 'close', which carries what can be known.
    socket.addEventListener('error', () => {})
  }

  /** The server's welcome (peers, ICE servers, limits). */
  get welcome(): WelcomePayload {
    if (this.#welcome === undefined) throw new TransportError('SIGNALING_CLOSED', 'the session was not welcomed')
    return this.#welcome
  }

  /** When the welcome came (the clock's time). */
  get openedAt(): number {
    return this.#openedAt
  }

  /** Starts delivering frames and the end to `handlers`, with what came since the welcome first. */
  attach(handlers: SessionHandlers): void {
    this.#handlers = handlers
    for (const deliver of this.#queued.splice(0)) deliver(handlers)
  }

  /** Sends one frame; returns its number (the server numbers frames the same way). */
  send(frame: string): number {
    try {
      this.#socket.send(frame)
    } catch {
      // A socket that is going away: its close event will follow.
    }
    return ++this.#sent
  }

  /** Leaves: no `end` follows. Resolves once the socket is closed, or after CLOSE_WAIT_MS. */
  async close(): Promise<void> {
    this.#drop()
    let timer: TimerHandle | undefined
    const { clock } = this.#params
    await Promise.race([this.#closed, new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, CLOSE_WAIT_MS)))])
    clock.clearTimeout(timer)
  }

  #deliver(fn: (handlers: SessionHandlers) => void): void {
    if (this.#handlers !== undefined) fn(this.#handlers)
    else this.#queued.push(fn)
  }

  #onFrame(data: unknown): void {
    if (this.#phase === 'ended') return
    const msg = decodeServerMessage(data, (this.#welcome?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) + 1024)
    if (this.#phase === 'open') {
      if (msg.type !== 'WELCOME' && msg.type !== 'OPEN' && msg.type !== 'IGNORED') this.#deliver((h) => h.frame(msg))
      return
    }
    // Before the welcome: only OPEN, the welcome or a refusal matter; anything invalid is fatal.
    switch (msg.type) {
      case 'INVALID':
        this.#settle(failure(new TransportError('INVALID_MESSAGE', `invalid message from the signaling server: ${msg.why}`), false))
        return
      case 'WELCOME':
        this.#onWelcome(msg)
        return
      case 'REFUSED': {
        const detail = [msg.reason, msg.dst, msg.msg].filter((s) => s !== undefined && s !== '').join(': ')
        const err = new TransportError(errorCodeForReason(msg.reason), `signaling server refused: ${detail || 'no reason given'}`)
        this.#settle(failure(err, isFinalRefusal(msg.reason)))
        return
      }
      default:
        return
    }
  }

  #onWelcome(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    const { identity, net, clock } = this.#params
    if (msg.id !== identity.id || msg.net !== net) {
      this.#settle(failure(new TransportError('INVALID_MESSAGE', 'the server welcomed another id or network'), false))
      return
    }
    const { id, peers, iceServers, heartbeatMs, maxMessageBytes } = msg
    this.#welcome = { id, net, peers, iceServers, heartbeatMs, maxMessageBytes }
    this.#phase = 'open'
    this.#openedAt = this.#lastBeat = clock.now()
    this.#heartbeat = clock.setTimeout(() => this.#beat(), msg.heartbeatMs)
    this.#settle({ ok: true, session: this })
  }

  /** Sends a HEARTBEAT, unless the last one is so long ago that the server has surely dropped us. */
  #beat(): void {
    const { clock } = this.#params
    const heartbeatMs = this.welcome.heartbeatMs
    const now = clock.now()
    if (now - this.#lastBeat > HEARTBEAT_MISSES * heartbeatMs) {
      const gap = now - this.#lastBeat
      const err = new TransportError('SIGNALING_CLOSED', `no heartbeat sent for ${gap} ms (the host slept?): the server has dropped the session`)
      this.#drop()
      this.#deliver((h) => h.end(err, false))
      return
    }
    this.#lastBeat = now
    this.send(HEARTBEAT_FRAME)
    this.#heartbeat = clock.setTimeout(() => this.#beat(), heartbeatMs)
  }

  #onSocketClose(code: number): void {
    this.#socketClosed()
    const phase = this.#phase
    if (phase === 'ended') return
    this.#drop()
    const reason = reasonForCloseCode(code)
    if (phase === 'registering') {
      const errorCode = reason !== undefined ? errorCodeForReason(reason) : this.#transportOpen ? 'SIGNALING_CLOSED' : 'SIGNALING_UNREACHABLE'
      this.#settle(failure(new TransportError(errorCode, `signaling connection closed before welcome (code ${code})`), isFinalRefusal(reason)))
      return
    }
    if (code === CLOSE_REPLACED) {
      const msg = `signaling session ${REPLACED_CLOSE_REASON}: this id registered again with its key (code ${code})`
      this.#deliver((h) => h.end(new TransportError('SIGNALING_CLOSED', msg), true))
      return
    }
    const errorCode = code === CLOSE_MESSAGE_TOO_BIG ? 'MESSAGE_TOO_LARGE' : reason !== undefined ? errorCodeForReason(reason) : 'SIGNALING_CLOSED'
    const err = new TransportError(errorCode, `signaling connection closed by the server (code ${code})`)
    this.#deliver((h) => h.end(err, isFinalRefusal(reason)))
  }

  /** Ends the session here: no heartbeat, the socket closing, no more frames. */
  #drop(): void {
    if (this.#phase === 'ended') return
    this.#phase = 'ended'
    this.#params.clock.clearTimeout(this.#heartbeat)
    if (this.#socket.readyState <= 1) {
      try {
        this.#socket.close(1000)
      } catch {
        // Already failing; the close event will come.
      }
    }
  }
}
