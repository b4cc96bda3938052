import type { Instance as SimplePeerInstance } from 'simple-peer'
import { P2PError, TransportError } from '../../errors.js'
import { Emitter } from '../../util/emitter.js'
import { Fifo } from '../../util/fifo.js'
import { SendQueue } from '../send-queue.js'
import type { Link, LinkEvents, LinkState, SendOptions } from '../types.js'
import { CHUNK_KIND, Reassembler, START_HEADER_BYTES, moreChunk, startChunk, wholeChunk } from './chunking.js'

export interface WebRtcLinkLimits {
  /** Largest data channel message we send, header included (default 16 KiB: safe everywhere). */
  chunkBytes: number
  /** Largest whole message, either way (default 64 MiB). */
  maxMessageBytes: number
  /** send() resolves at once while the queued bytes stay under this (default 4 MiB). */
  highWaterMark: number
  /** How long close() waits for queued messages to reach the peer before cutting (default 5 s). */
  closeTimeoutMs: number
}

export const WEBRTC_LINK_DEFAULTS: Readonly<WebRtcLinkLimits> = Object.freeze({
  chunkBytes: 16 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  highWaterMark: 4 * 1024 * 1024,
  closeTimeoutMs: 5_000,
})

/** The control chunk that ends a link after everything queued before it (kind 0x03). */
const BYE = new Uint8Array([0x03])

/** The data channel's queue is kept between these (Chromium fails a send past 16 MiB queued). */
const CHANNEL_HIGH_WATER = 1024 * 1024
const CHANNEL_LOW_WATER = 256 * 1024

/**
 * simple-peer's RTCDataChannel once connected. `_channel` is private API, but simple-peer 9 is
 * final (no release since 2021) and the field has been there since its first version.
 */
function dataChannelOf(peer: SimplePeerInstance): RTCDataChannel | undefined {
  const channel = (peer as unknown as { _channel?: RTCDataChannel | null })._channel
  return channel ?? undefined
}

/**
 * The WHOLE chunk made for the last `immutable` message: a relay sends one frame to each of its
 * links in a row, so that frame is copied into a chunk once. One entry covers that pattern
 * without a WeakMap lookup on every send.
 */
let lastShared: { data: Uint8Array; chunk: Uint8Array } | undefined

function sharedWholeChunk(data: Uint8Array): Uint8Array {
  if (lastShared?.data !== data) lastShared = { data, chunk: wholeChunk(data) }
  return lastShared.chunk
}

/** Queued for the channel: ready chunks (WHOLE, BYE), or a large message cut into chunks as it goes. */
type Outgoing = { chunks: Iterator<Uint8Array>; left: number } | { data: Uint8Array; offset: number; left: number }
/** A MORE chunk not made yet: `data[from, to)` of a large message. */
type Piece = { data: Uint8Array; from: number; to: number }

/**
 * A Link over one simple-peer connection (one RTCPeerConnection, one ordered reliable data
 * channel). Messages are split into chunks (chunking.ts), one large message at a time, with
 * urgent single-chunk messages allowed between its chunks. The channel's queue is kept under
 * 1 MiB, and this link's own queue at most `highWaterMark` (plus one message): beyond it
 * send() waits.
 */
export class WebRtcLink implements Link {
  readonly id: string
  readonly remoteId: string | undefined
  readonly #peer: SimplePeerInstance
  readonly #limits: WebRtcLinkLimits
  readonly #events = new Emitter<LinkEvents>()
  readonly #reassembler: Reassembler
  readonly #urgent = new Fifo<Uint8Array>()
  readonly #bulk = new Fifo<Outgoing>()
  /** Accepted messages: a message's WHOLE chunk if it fits in one, else a copy of it. */
  readonly #queue: SendQueue<Uint8Array>
  #state: LinkState = 'connecting'
  #pumping = false
  #waitingDrain = false
  readonly #backlog: Uint8Array[] = []
  #backlogBytes = 0
  #closing: Promise<void> | undefined
  #failure: P2PError | undefined
  readonly #opened: Promise<void>

  constructor(peer: SimplePeerInstance, init: { id: string; remoteId: string | undefined; limits: WebRtcLinkLimits }) {
    this.id = init.id
    this.remoteId = init.remoteId
    this.#peer = peer
    this.#limits = init.limits
    this.#reassembler = new Reassembler(init.limits.maxMessageBytes)
    const { highWaterMark, maxMessageBytes } = init.limits
    this.#queue = new SendQueue({ linkId: init.id, highWaterMark, maxMessageBytes, admit: (data, size, urgent) => this.#admit(data, size, urgent) })
    this.#opened = new Promise((resolve, reject) => {
      peer.once('connect', () => {
        if (this.#state !== 'connecting') return
        this.#state = 'open'
        this.#events.emit('open')
        resolve()
        this.#pump()
      })
      this.#events.once('close', (reason) => reject(reason ?? new TransportError('LINK_CLOSED', `link ${this.id} closed before opening`)))
    })
    this.#opened.catch(() => {}) // observed through opened(); never an unhandled rejection
    peer.on('data', (chunk: Uint8Array) => this.#onChunk(chunk))
    peer.on('error', (err: Error & { code?: string }) => this.#onPeerError(err))
    peer.on('close', () => this.#terminate(this.#failure ?? new TransportError('LINK_CLOSED', `link ${this.id} was closed by the remote peer`)))
  }

  get state(): LinkState {
    return this.#state
  }

  get bufferedAmount(): number {
    return this.#queue.bufferedAmount
  }

  /** Resolves when the data channel is open; rejects with the reason if the link closes first. */
  opened(): Promise<void> {
    return this.#opened
  }

  send(data: Uint8Array, options: SendOptions = {}): Promise<void> {
    const refusal = this.#queue.refusal(data, this.#state === 'closed')
    if (refusal !== undefined) return Promise.reject(refusal)
    // Copied (the caller may reuse its buffer): a small message once, straight into its chunk.
    const whole = this.#isWhole(data.byteLength)
    const copy = whole ? (options.immutable === true ? sharedWholeChunk(data) : wholeChunk(data)) : options.immutable === true ? data : data.slice()
    if (whole && this.#sendNow(copy)) return Promise.resolve()
    return this.#queue.offer(copy, data.byteLength, options.urgent === true && whole)
  }

  on<K extends keyof LinkEvents>(event: K, fn: (...args: LinkEvents[K]) => void): () => void {
    const off = this.#events.on(event, fn)
    if (event === 'message' && this.#backlog.length > 0) queueMicrotask(() => this.#flushBacklog())
    return off
  }

  /**
   * Idempotent. Messages already accepted by send() are still delivered: a BYE chunk follows
   * them and the peer closes on it; after `closeTimeoutMs` the connection is cut regardless.
   * This end emits 'close' (reason undefined) at once; the promise resolves when torn down.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    const wasOpen = this.#state === 'open'
    this.#state = 'closed'
    this.#queue.close(undefined, true)
    this.#closing = new Promise<void>((resolve) => {
      if (this.#peer.destroyed) return resolve()
      this.#peer.once('close', () => resolve())
      if (!wasOpen) return this.#peer.destroy()
      const timer = setTimeout(() => this.#peer.destroy(), this.#limits.closeTimeoutMs)
      this.#peer.once('close', () => clearTimeout(timer))
      this.#urgentAfterQueue(BYE)
    })
    this.#events.emitLast('close', undefined)
    return this.#closing
  }

  /**
   * The common case, a small message on an idle link: straight to the data channel, without
   * queueing. False (nothing sent) if anything is queued or the channel's queue is full.
   */
  #sendNow(chunk: Uint8Array): boolean {
    if (this.#state !== 'open' || this.#pumping || this.#waitingDrain || this.#peer.destroyed) return false
    if (!this.#queue.idle || this.#urgent.length !== 0 || this.#bulk.length !== 0) return false
    const channel = dataChannelOf(this.#peer)
    if (channel === undefined || typeof channel.bufferedAmountLowThreshold !== 'number' || channel.bufferedAmount > CHANNEL_HIGH_WATER) return false
    this.#toChannel(chunk)
    return true
  }

  /** Whether a message of `size` bytes goes in one WHOLE chunk (send() then queues that chunk). */
  #isWhole(size: number): boolean {
    return size + 1 <= this.#limits.chunkBytes
  }

  /** SendQueue's `admit`: `data` (the WHOLE chunk or the message) joins its lane. */
  #admit(data: Uint8Array, size: number, urgent: boolean): void {
    if (urgent) this.#urgent.push(data)
    else this.#bulk.push(this.#isWhole(size) ? { chunks: [data].values(), left: size } : { data, offset: 0, left: size })
    this.#pump()
  }

  /** Queues a control chunk behind everything already accepted (used for BYE). */
  #urgentAfterQueue(chunk: Uint8Array): void {
    this.#bulk.push({ chunks: [chunk][Symbol.iterator](), left: 0 })
    this.#pump()
  }

  #nextChunk(): Uint8Array | Piece | undefined {
    const urgent = this.#urgent.shift()
    if (urgent !== undefined) {
      this.#queue.sent(urgent.byteLength - 1)
      return urgent
    }
    for (let head = this.#bulk.peek(); head !== undefined; head = this.#bulk.peek()) {
      if ('data' in head) {
        if (head.offset >= head.data.length) {
          this.#bulk.shift()
          continue
        }
        const { chunkBytes } = this.#limits
        if (head.offset === 0) {
          head.offset = chunkBytes - START_HEADER_BYTES
          return this.#took(head, startChunk(head.data, chunkBytes), head.offset)
        }
        const from = head.offset
        head.offset = Math.min(head.data.length, from + chunkBytes - 1)
        return this.#took(head, { data: head.data, from, to: head.offset }, head.offset - from)
      }
      const next = head.chunks.next()
      if (next.done === true) {
        this.#bulk.shift()
        continue
      }
      return this.#took(head, next.value, Math.max(0, next.value.byteLength - 1))
    }
    return undefined
  }

  #took<T>(head: Outgoing, chunk: T, payload: number): T {
    head.left -= payload
    this.#queue.sent(payload)
    return chunk
  }

  /**
   * Hands one chunk to the data channel; false if the channel refused it (the link then fails:
   * LINK_FAILED). A MORE chunk not made yet (`Piece`) is sent without copying the piece first:
   * the byte before it is set to the chunk header for the duration of the (synchronous, copying)
   * send() and put back at once.
   */
  #toChannel(next: Uint8Array | Piece): boolean {
    try {
      if (next instanceof Uint8Array) {
        this.#peer.send(next)
        return true
      }
      const at = next.from - 1
      const saved = next.data[at]!
      next.data[at] = CHUNK_KIND.more
      try {
        this.#peer.send(next.data.subarray(at, next.to))
      } finally {
        next.data[at] = saved
      }
      return true
    } catch (err: unknown) {
      this.#failure ??= new TransportError('LINK_FAILED', 'the data channel refused a message', { cause: err })
      this.#peer.destroy()
      return false
    }
  }

  /**
   * Sends chunks while the data channel's own queue is under `CHANNEL_HIGH_WATER`, then waits
   * for its native 'bufferedamountlow' event. simple-peer's stream interface also gives
   * backpressure, but its bundled `process.nextTick` is a setTimeout: one clamped timer per
   * 16 KiB. It is the fallback for channels without `bufferedAmountLowThreshold` (@roamhq/wrtc
   * in Node, whose bufferedAmount stays 0), as simple-peer itself does.
   */
  #pump(): void {
    if (this.#pumping || this.#waitingDrain || this.#peer.destroyed || this.#state === 'connecting') return
    const channel = dataChannelOf(this.#peer)
    if (channel === undefined) return
    const native = typeof channel.bufferedAmountLowThreshold === 'number'
    this.#pumping = true
    try {
      for (;;) {
        if (native && channel.bufferedAmount > CHANNEL_HIGH_WATER) {
          channel.bufferedAmountLowThreshold = CHANNEL_LOW_WATER
          this.#waitFor(channel, 'bufferedamountlow')
          return
        }
        const next = this.#nextChunk()
        if (next === undefined) return
        if (!native) {
          // The stream may hold on to what it is given: only whole chunks of our own go in.
          const chunk = next instanceof Uint8Array ? next : moreChunk(next.data.subarray(next.from, next.to))
          if (!this.#peer.write(chunk)) return this.#waitFor(this.#peer, 'drain')
          continue
        }
        if (!this.#toChannel(next)) return
      }
    } finally {
      this.#pumping = false
    }
  }

  #waitFor(source: RTCDataChannel | SimplePeerInstance, event: 'bufferedamountlow' | 'drain'): void {
    this.#waitingDrain = true
    const resume = (): void => {
      this.#waitingDrain = false
      this.#pump()
    }
    if ('addEventListener' in source) source.addEventListener(event, resume, { once: true })
    else source.once(event, resume)
  }

  #onChunk(raw: Uint8Array): void {
    const chunk = raw instanceof Uint8Array && raw.constructor === Uint8Array ? raw : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)
    if (chunk.byteLength === 1 && chunk[0] === BYE[0]) {
      // The peer closed after sending everything: all of it has arrived (the channel is ordered).
      this.#terminate(new TransportError('LINK_CLOSED', `link ${this.id} was closed by the remote peer`))
      this.#peer.destroy()
      return
    }
    let message: Uint8Array | undefined
    try {
      message = this.#reassembler.push(chunk)
    } catch (err: unknown) {
      this.#failure = err instanceof P2PError ? err : new TransportError('INVALID_MESSAGE', 'bad chunk', { cause: err })
      this.#terminate(this.#failure)
      this.#peer.destroy()
      return
    }
    if (message !== undefined && this.#state !== 'closed') this.#deliver(message)
  }

  /**
   * Messages can arrive before anyone listens: simple-peer delivers data on the accepting side
   * before its 'connect', and the link reaches its user only after that. They are held (up to
   * `highWaterMark` bytes, oldest dropped past it) until the first 'message' listener.
   */
  #deliver(message: Uint8Array): void {
    if (this.#events.listenerCount('message') > 0 && this.#backlog.length === 0) return this.#events.emit('message', message)
    this.#backlog.push(message)
    this.#backlogBytes += message.byteLength
    while (this.#backlogBytes > this.#limits.highWaterMark && this.#backlog.length > 1) {
      this.#backlogBytes -= this.#backlog.shift()!.byteLength
    }
    if (this.#events.listenerCount('message') > 0) queueMicrotask(() => this.#flushBacklog())
  }

  #flushBacklog(): void {
    while (this.#backlog.length > 0 && this.#events.listenerCount('message') > 0 && this.#state !== 'closed') {
      const message = this.#backlog.shift()!
      this.#backlogBytes -= message.byteLength
      this.#events.emit('message', message)
    }
  }

  #onPeerError(err: Error & { code?: string }): void {
    // simple-peer reports the far side's close as an error ("User-Initiated Abort" /
    // "Close called"); that is a normal close, not a failure.
    if (err.code === 'ERR_DATA_CHANNEL' && /abort|close/i.test(err.message)) return
    this.#failure ??= new TransportError('LINK_FAILED', `WebRTC connection failed: ${err.code ?? err.message}`, { cause: err })
  }

  #terminate(reason: P2PError): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#queue.close(reason, true)
    this.#events.emitLast('close', reason)
  }
}
