import { TransportError, type P2PError } from '../errors.js'
import { Fifo } from '../util/fifo.js'

/**
 * The send side every Link shares (memory and simulated links, WebRTC links): what `send()`
 * refuses at once, and the byte budget with its waiting senders. A message is accepted at once
 * when it is urgent, or when no sender waits and it fits (`bufferedAmount + size <=
 * highWaterMark`, or nothing is buffered: a message larger than the mark goes alone into an
 * empty buffer). Otherwise its sender waits, in order, until `sent()` makes room. What accepting
 * means (a carrier's queue, chunk lanes) is the link's: the `admit` callback.
 */
export interface SendQueueInit<T> {
  /** The link's id, for error messages. */
  linkId: string
  highWaterMark: number
  maxMessageBytes: number
  /**
   * Takes an accepted message: `size` bytes that count in `bufferedAmount` until `sent()` is
   * told they left. Runs after they are counted; it may call `sent()` itself.
   */
  admit: (item: T, size: number, urgent: boolean) => void
}

type Waiting<T> = { item: T; size: number; resolve: () => void; reject: (err: P2PError) => void }

export class SendQueue<T> {
  readonly #init: SendQueueInit<T>
  readonly #waiting = new Fifo<Waiting<T>>()
  #buffered = 0

  constructor(init: SendQueueInit<T>) {
    this.#init = init
  }

  /** Bytes accepted and not yet sent (the Link's `bufferedAmount`). */
  get bufferedAmount(): number {
    return this.#buffered
  }

  /** Nothing buffered and no sender waiting. */
  get idle(): boolean {
    return this.#buffered === 0 && this.#waiting.length === 0
  }

  /** Why `send(data)` on a link (`closed` or not) must be refused at once, if it must. */
  refusal(data: unknown, closed: boolean): TransportError | undefined {
    if (!(data instanceof Uint8Array)) return new TransportError('INVALID_MESSAGE', `send() takes a Uint8Array, got ${typeName(data)}`)
    if (closed) return new TransportError('LINK_CLOSED', `link ${this.#init.linkId} is closed`)
    const cap = this.#init.maxMessageBytes
    if (data.byteLength > cap) return new TransportError('MESSAGE_TOO_LARGE', `message of ${data.byteLength} bytes exceeds the link's cap of ${cap}`)
    return undefined
  }

  /** Accepts `item` (`size` bytes) now, or once there is room: the promise send() returns. */
  offer(item: T, size: number, urgent: boolean): Promise<void> {
    if (urgent || (this.#waiting.length === 0 && this.#fits(size))) {
      this.#accept(item, size, urgent)
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => this.#waiting.push({ item, size, resolve, reject }))
  }

  /** `bytes` accepted bytes left the link: waiting senders are accepted, in order, while they fit. */
  sent(bytes: number): void {
    this.#buffered = Math.max(0, this.#buffered - bytes)
    for (let next = this.#waiting.peek(); next !== undefined && this.#fits(next.size); next = this.#waiting.peek()) {
      this.#waiting.shift()
      this.#accept(next.item, next.size, false)
      next.resolve()
    }
  }

  /**
   * The link closed: every waiting sender is refused (LINK_CLOSED, with `cause`). `discard`:
   * what was accepted no longer counts either (bufferedAmount drops to 0).
   */
  close(cause: P2PError | undefined, discard: boolean): void {
    if (discard) this.#buffered = 0
    for (const w of this.#waiting.drain()) {
      w.reject(new TransportError('LINK_CLOSED', `link ${this.#init.linkId} closed before the message was accepted`, { cause }))
    }
  }

  #fits(size: number): boolean {
    return this.#buffered === 0 || this.#buffered + size <= this.#init.highWaterMark
  }

  #accept(item: T, size: number, urgent: boolean): void {
    this.#buffered += size
    this.#init.admit(item, size, urgent)
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  return typeof value
}
