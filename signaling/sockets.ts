import type { IncomingMessage } from 'node:http'
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws'
import { addressKey } from './address.js'
import type { Admission, SignalingHub } from './hub.js'

/**
 * The WebSocket server handed to PeerJS (its `createWebSocketServer` option). It puts the hub
 * in front of PeerJS at two points:
 * - verifyClient: the registration is checked before the upgrade completes, and the verdict
 *   is remembered for the request;
 * - 'connection': a refused socket is told why and closed without PeerJS ever seeing it; an
 *   admitted one gets a message gate, so PeerJS only ever parses frames the hub accepted, and
 *   its URL's PeerJS token is replaced by PEERJS_TOKEN.
 *
 * PeerJS 1.0.2 meets a live id with an equal token by swapping the new socket into the id's
 * client (its close handler ignores the old socket from then on) and with a different token by
 * ID-TAKEN. The client's token proves nothing here, the signed nonce does; with one token for
 * every admitted socket, the takeover the hub decided is PeerJS's ordinary reconnect.
 */
const PEERJS_TOKEN = 'key-proven'

type Gate = (data: unknown, isBinary: boolean) => string | undefined

/** A server-side socket whose 'message' events go through a gate before any listener. */
export class GatedSocket extends WebSocket {
  #gate: Gate | undefined
  #onGateError: ((err: unknown) => void) | undefined

  setGate(gate: Gate, onError: (err: unknown) => void): void {
    this.#gate = gate
    this.#onGateError = onError
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const gate = this.#gate
    if (event !== 'message') return super.emit(event, ...args)
    // Frames from a socket that was never admitted go nowhere.
    if (gate === undefined) return false
    let frame: string | undefined
    try {
      frame = gate(args[0], args[1] === true)
    } catch (err: unknown) {
      this.#onGateError?.(err)
      return false
    }
    return frame === undefined ? false : super.emit('message', frame, false)
  }
}

export interface GatedServerOptions {
  hub: SignalingHub
  maxPayload: number
  log: (message: string, detail?: unknown) => void
}

class GatedServer extends WebSocketServer<typeof GatedSocket> {
  readonly #admissions: WeakMap<IncomingMessage, Admission>
  readonly #hub: SignalingHub
  readonly #log: GatedServerOptions['log']

  constructor(peerOptions: ServerOptions, { hub, maxPayload, log }: GatedServerOptions) {
    const admissions = new WeakMap<IncomingMessage, Admission>()
    super({
      ...peerOptions,
      WebSocket: GatedSocket,
      maxPayload,
      perMessageDeflate: false,
      clientTracking: true,
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number) => void) => {
        hub.verify(addressKey(info.req.socket.remoteAddress), info.req.url).then(
          (admission) => {
            admissions.set(info.req, admission)
            done(true)
          },
          (err: unknown) => {
            log('registration check failed', err)
            done(false, 500)
          },
        )
      },
    })
    this.#admissions = admissions
    this.#hub = hub
    this.#log = log
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'connection') return super.emit(event, ...args)
    const [socket, req] = args as [GatedSocket, IncomingMessage]
    const hub = this.#hub
    // A refused socket gets no PeerJS listeners: without this, a socket error would crash us.
    socket.on('error', (err) => this.#log('socket error', err))
    socket.on('close', () => hub.release(socket))
    const admission: Admission = this.#admissions.get(req) ?? { ok: false, reason: 'BAD_REQUEST' }
    this.#admissions.delete(req)
    if (hub.admit(socket, admission) === undefined) return false
    req.url = withPeerToken(req.url ?? '')
    socket.setGate(
      (data, isBinary) => hub.gate(socket, data, isBinary),
      (err) => this.#log('message gate failed', err),
    )
    return super.emit('connection', socket, req)
  }
}

/** `url` (an admitted registration: every parameter once) with PEERJS_TOKEN as its token. */
function withPeerToken(url: string): string {
  const parsed = new URL(url, 'http://signaling.invalid')
  parsed.searchParams.set('token', PEERJS_TOKEN)
  return `${parsed.pathname}${parsed.search}`
}

/** The `createWebSocketServer` option for PeerJS. */
export function gatedWebSocketServer(options: GatedServerOptions): (peerOptions: ServerOptions) => WebSocketServer {
  return (peerOptions) => new GatedServer(peerOptions, options) as unknown as WebSocketServer
}
