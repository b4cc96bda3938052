import { MeshError, type P2PError } from '../errors.js'
import { USER_SUB } from './messages.js'
import type { MeshPort, MeshProtocol, MessageClaim, ProtocolMessage } from './protocol.js'

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

export interface UserMessagesHost {
  /** Hands a message to 'message' listeners; false if there are none. */
  emit(message: ReceivedMessage): boolean
  report(err: P2PError): void
  /** Unclaimed messages kept for recv(); the oldest is dropped past it. */
  maxQueued: number
}

/** The user messages' sub flags: 0.7's broadcast 0x00, whisper 0x02 (direct and routed). */
export const USER_CLAIMS: readonly MessageClaim<unknown[]>[] = [
  { route: 'broadcast', sub: USER_SUB.broadcast },
  { route: 'whisper', sub: USER_SUB.whisper },
  { route: 'routed', sub: USER_SUB.routed },
]

/**
 * The mesh's user messages as the first protocol on the seam: `send` floods broadcast 0x00,
 * `whisper` sends whisper 0x02 (to a neighbour, or routed under forward): 0.7's shapes. Each
 * message goes to the handlers in order (the first to return true consumes it), then to 'message'
 * listeners, or waits in the recv() queue.
 */
export class UserMessages implements MeshProtocol<unknown[]> {
  readonly name = 'user'
  readonly claims = USER_CLAIMS
  readonly #host: UserMessagesHost
  readonly #handlers: ((message: ReceivedMessage) => boolean | void)[] = []
  readonly #queue: ReceivedMessage[] = []
  /** Messages dropped from the recv() queue because it was full. */
  recvDropped = 0

  constructor(host: UserMessagesHost) {
    this.#host = host
  }

  send(port: MeshPort, payload: unknown[]): Promise<void> {
    return port.broadcast(USER_SUB.broadcast, ...payload)
  }

  whisper(port: MeshPort, to: string, payload: unknown[]): Promise<void> {
    return port.whisper(to, USER_SUB.whisper, ...payload)
  }

  addHandler(handler: (message: ReceivedMessage) => boolean | void): () => void {
    this.#handlers.push(handler)
    return () => {
      const i = this.#handlers.indexOf(handler)
      if (i >= 0) this.#handlers.splice(i, 1)
    }
  }

  recv(n: number): ReceivedMessage[] {
    return this.#queue.splice(0, Math.max(0, n))
  }

  onMessage(m: ProtocolMessage<unknown[]>): void {
    const message: ReceivedMessage = {
      type: m.route === 'broadcast' ? 'broadcast' : 'whisper',
      sender: m.origin,
      payload: m.value,
      id: m.id,
      time: m.time,
      reply: (...args: unknown[]) => m.reply(USER_SUB.whisper, ...args),
    }
    for (const handler of [...this.#handlers]) {
      try {
        if (handler(message) === true) return
      } catch (err: unknown) {
        this.#host.report(new MeshError('HANDLER_FAILED', 'a message handler threw', { cause: err, peerId: m.origin }))
      }
    }
    // Event listeners get it; without any, it waits in the recv() queue (bounded, oldest dropped).
    if (this.#host.emit(message)) return
    this.#queue.push(message)
    if (this.#queue.length > this.#host.maxQueued) {
      this.#queue.shift()
      this.recvDropped++
    }
  }
}
