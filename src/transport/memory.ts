import { P2PError, TransportError } from '../errors.js'
import { Emitter } from '../util/emitter.js'
import { Fifo } from '../util/fifo.js'
import { SendQueue } from './send-queue.js'
import type { Link, LinkEvents, LinkState, SendOptions, Transport, TransportEvents } from './types.js'

/**
 * In-memory links and transports, for tests and demos. A pair delivers by microtask (no timers),
 * whole messages in order, with the same backpressure, size cap and close semantics as a real
 * link. The seeded simulated network (src/testing) reuses `QueuedLink` with its own carrier.
 */

export const MEMORY_LINK_DEFAULTS = Object.freeze({
  /** Bytes a link accepts before send() waits for delivery to drain them. */
  highWaterMark: 16 * 1024 * 1024,
  /** Largest single message; larger sends reject with MESSAGE_TOO_LARGE. */
  maxMessageBytes: 64 * 1024 * 1024,
})

export interface LinkLimits {
  /**
   * send() resolves at once while `bufferedAmount + size <= highWaterMark` (or the buffer is
   * empty: a message larger than the mark is accepted alone); otherwise it waits, in order, for
   * delivery to drain the buffer. Default 16 MiB.
   */
  highWaterMark?: number
  /** Default 64 MiB. */
  maxMessageBytes?: number
}

export interface MemoryLinkOptions extends LinkLimits {
  /** The two ends' owners: `a.remoteId === peerIds[1]`, `b.remoteId === peerIds[0]`. Default: undefined. */
  peerIds?: readonly [string, string]
  /** Aborting fails both ends at once with LINK_FAILED (a dropped connection); queued messages are lost. */
  signal?: AbortSignal
}

/** @internal What moves a QueuedLink's accepted messages to its peer: microtasks here, the scheduler in the simulator. */
export interface LinkCarrier {
  /** `from` accepted `data` (its bufferedAmount already counts it); call `from.drained()` once it leaves. */
  accept(from: QueuedLink, data: Uint8Array): void
  /** `from` was closed locally; the promise is what `from.close()` returns. */
  close(from: QueuedLink): Promise<void>
}

/** @internal */
export interface QueuedLinkInit {
  id: string
  remoteId: string | undefined
  limits: Required<LinkLimits>
  carrier: LinkCarrier
  onListenerError?: (err: unknown) => void
}

/**
 * @internal One end of a link whose transport is a `LinkCarrier`: owns the state, the send
 * buffer accounting, backpressure and events. Exposed to users only as `Link`.
 */
export class QueuedLink implements Link {
  readonly id: string
  readonly remoteId: string | undefined
  readonly #carrier: LinkCarrier
  readonly #events: Emitter<LinkEvents>
  readonly #queue: SendQueue<Uint8Array>
  #state: LinkState = 'open'
  #closed: Promise<void> | undefined

  constructor(init: QueuedLinkInit) {
    this.id = init.id
    this.remoteId = init.remoteId
    this.#carrier = init.carrier
    this.#queue = new SendQueue({ linkId: init.id, ...init.limits, admit: (data) => this.#carrier.accept(this, data) })
    const onError = init.onListenerError
    this.#events = new Emitter<LinkEvents>(onError === undefined ? undefined : (err) => onError(err))
  }

  get state(): LinkState {
    return this.#state
  }

  get bufferedAmount(): number {
    return this.#queue.bufferedAmount
  }

  /**
   * An `urgent` send skips the wait for buffer space (it may overtake sends still waiting for it);
   * accepted messages are delivered strictly in order.
   */
  send(data: Uint8Array, options: SendOptions = {}): Promise<void> {
    const refusal = this.#queue.refusal(data, this.#state === 'closed')
    if (refusal !== undefined) return Promise.reject(refusal)
    const copy = new Uint8Array(data) // the caller may reuse its buffer
    return this.#queue.offer(copy, copy.byteLength, options.urgent === true)
  }

  on<K extends keyof LinkEvents>(event: K, fn: (...args: LinkEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    if (this.#state === 'closed') {
      this.#closed = Promise.resolve()
      return this.#closed
    }
    this.#state = 'closed'
    this.#queue.close(undefined, false) // what was accepted is still delivered
    this.#closed = this.#carrier.close(this)
    this.#events.emitLast('close', undefined)
    return this.#closed
  }

  /** @internal Carrier: `bytes` accepted bytes left this end's buffer. */
  drained(bytes: number): void {
    this.#queue.sent(bytes)
  }

  /** @internal Carrier: a message arrived for this end (ignored once it is closed). */
  receive(data: Uint8Array): void {
    if (this.#state === 'open') this.#events.emit('message', data)
  }

  /** @internal Carrier: the link ended under this end (peer closed, connection failed). Idempotent. */
  terminate(reason: P2PError): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#queue.close(reason, true)
    this.#events.emitLast('close', reason)
  }
}

let pairCounter = 0

/**
 * A connected pair of links that delivers by microtask: whole messages, in order, bytes copied on
 * send. Closing one end delivers what it already accepted, then the other end sees 'close'
 * (reason LINK_CLOSED); `close()` resolves once that has happened.
 */
export function createMemoryLinkPair(options: MemoryLinkOptions = {}): [Link, Link] {
  const n = ++pairCounter
  const limits = resolveLinkLimits(options)
  const wire = new MicrotaskWire()
  const a = new QueuedLink({ id: `memory-${n}a`, remoteId: options.peerIds?.[1], limits, carrier: wire })
  const b = new QueuedLink({ id: `memory-${n}b`, remoteId: options.peerIds?.[0], limits, carrier: wire })
  wire.attach(a, b, options.signal)
  return [a, b]
}

/** Validates and fills in link limits. Throws INVALID_OPTION on a negative or non-numeric bound. */
export function resolveLinkLimits(options: LinkLimits): Required<LinkLimits> {
  const limits = {
    highWaterMark: options.highWaterMark ?? MEMORY_LINK_DEFAULTS.highWaterMark,
    maxMessageBytes: options.maxMessageBytes ?? MEMORY_LINK_DEFAULTS.maxMessageBytes,
  }
  for (const [name, value] of Object.entries(limits)) {
    if (!(value >= 0)) throw new TransportError('INVALID_OPTION', `${name} must be a number >= 0, got ${String(value)}`)
  }
  return limits
}

type WireItem = { data: Uint8Array } | { closed: () => void }

/** Two FIFO directions between two QueuedLinks, each pumped one item per microtask. */
class MicrotaskWire implements LinkCarrier {
  #ends: [QueuedLink, QueuedLink] | undefined
  readonly #queues: [Fifo<WireItem>, Fifo<WireItem>] = [new Fifo(), new Fifo()]
  readonly #scheduled = [false, false]
  #detach: (() => void) | undefined

  attach(a: QueuedLink, b: QueuedLink, signal: AbortSignal | undefined): void {
    this.#ends = [a, b]
    if (signal === undefined) return
    const onAbort = (): void => this.#fail(signal.reason)
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    this.#detach = () => signal.removeEventListener('abort', onAbort)
  }

  accept(from: QueuedLink, data: Uint8Array): void {
    this.#push(this.#side(from), { data })
  }

  close(from: QueuedLink): Promise<void> {
    return new Promise((resolve) => this.#push(this.#side(from), { closed: resolve }))
  }

  #side(link: QueuedLink): 0 | 1 {
    return this.#ends?.[0] === link ? 0 : 1
  }

  #push(side: 0 | 1, item: WireItem): void {
    this.#queues[side].push(item)
    this.#schedule(side)
  }

  #schedule(side: 0 | 1): void {
    if (this.#scheduled[side] || this.#queues[side].length === 0) return
    this.#scheduled[side] = true
    queueMicrotask(() => this.#pump(side))
  }

  #pump(side: 0 | 1): void {
    this.#scheduled[side] = false
    const item = this.#queues[side].shift()
    const ends = this.#ends
    if (item === undefined || ends === undefined) return
    const from = ends[side]
    const to = ends[side === 0 ? 1 : 0]
    if ('data' in item) {
      from.drained(item.data.byteLength)
      to.receive(item.data)
    } else {
      to.terminate(new TransportError('LINK_CLOSED', `link ${to.id} was closed by the remote peer`))
      this.#discard(side === 0 ? 1 : 0) // what `to` still had queued has nowhere to go
      item.closed()
    }
    this.#schedule(side)
    this.#maybeDone()
  }

  #fail(reason: unknown): void {
    const err =
      reason instanceof P2PError ? reason : new TransportError('LINK_FAILED', 'memory link failed (aborted)', { cause: reason })
    for (const end of this.#ends ?? []) end.terminate(err)
    this.#discard(0)
    this.#discard(1)
    this.#maybeDone()
  }

  #discard(side: 0 | 1): void {
    for (const item of this.#queues[side].drain()) if ('closed' in item) item.closed()
  }

  #maybeDone(): void {
    const ends = this.#ends
    if (ends === undefined || ends[0].state !== 'closed' || ends[1].state !== 'closed') return
    if (this.#queues[0].length > 0 || this.#queues[1].length > 0) return
    this.#detach?.()
    this.#detach = undefined
  }
}

export type MemoryHubOptions = LinkLimits

type HubInternals = { transports: Map<string, MemoryTransport>; limits: Required<LinkLimits> }
let internalsOf: (hub: MemoryHub) => HubInternals

/** A namespace of in-memory transports that can dial each other by id. */
export class MemoryHub {
  readonly #internals: HubInternals

  static {
    internalsOf = (hub) => hub.#internals
  }

  /** `options` bound every link made between this hub's transports. */
  constructor(options: MemoryHubOptions = {}) {
    this.#internals = { transports: new Map(), limits: resolveLinkLimits(options) }
  }

  /** Registers a new transport; throws ID_TAKEN if `localId` is registered and not closed. */
  transport(localId: string): MemoryTransport {
    return new MemoryTransport(this, localId)
  }

  /** Ids of the registered (not closed) transports. */
  get ids(): string[] {
    return [...this.#internals.transports.keys()]
  }
}

/** A Transport on a MemoryHub: `dial(id)` makes a memory link pair with the transport registered as `id`. */
export class MemoryTransport implements Transport {
  readonly localId: string
  readonly #hub: MemoryHub
  readonly #events = new Emitter<TransportEvents>()
  readonly #links = new Set<Link>()
  #closed: Promise<void> | undefined

  constructor(hub: MemoryHub, localId: string) {
    const { transports } = internalsOf(hub)
    if (transports.has(localId)) throw new TransportError('ID_TAKEN', `id '${localId}' is already registered on this hub`)
    this.#hub = hub
    this.localId = localId
    transports.set(localId, this)
  }

  /**
   * Resolves with an open link to `remoteId`; the remote transport emits 'link' with the other end
   * first. Rejects with TRANSPORT_CLOSED, DIAL_FAILED (aborted, or dialing itself) or
   * PEER_UNREACHABLE (no such id on the hub).
   */
  async dial(remoteId: string, options: { signal?: AbortSignal } = {}): Promise<Link> {
    await Promise.resolve() // always asynchronous, like a real network
    const { signal } = options
    if (this.#closed !== undefined) throw new TransportError('TRANSPORT_CLOSED', `transport '${this.localId}' is closed`)
    if (signal?.aborted === true) throw new TransportError('DIAL_FAILED', `dial to '${remoteId}' aborted`, { cause: signal.reason })
    if (remoteId === this.localId) throw new TransportError('DIAL_FAILED', `transport '${remoteId}' cannot dial itself`)
    const { transports, limits } = internalsOf(this.#hub)
    const remote = transports.get(remoteId)
    if (remote === undefined) throw new TransportError('PEER_UNREACHABLE', `no transport '${remoteId}' on this hub`)
    const [mine, theirs] = createMemoryLinkPair({ ...limits, peerIds: [this.localId, remoteId] })
    this.#track(mine)
    remote.#track(theirs)
    remote.#events.emit('link', theirs)
    return mine
  }

  on<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  /** Idempotent: unregisters (no new links), then closes every open link of this transport. */
  close(): Promise<void> {
    this.#closed ??= this.#teardown()
    return this.#closed
  }

  async #teardown(): Promise<void> {
    const { transports } = internalsOf(this.#hub)
    if (transports.get(this.localId) === this) transports.delete(this.localId)
    await Promise.all([...this.#links].map((link) => link.close()))
    this.#events.removeAll()
  }

  #track(link: Link): void {
    this.#links.add(link)
    link.on('close', () => this.#links.delete(link))
  }
}
