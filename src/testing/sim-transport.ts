import { TransportError } from '../errors.js'
import type { Link, Transport, TransportEvents } from '../transport/types.js'
import type { Clock } from '../util/clock.js'
import { Emitter } from '../util/emitter.js'
import type { QueuedEvent } from './event-queue.js'
import type { SimEngine, SimNode } from './sim-types.js'
import { SimWire } from './sim-wire.js'

/**
 * A node's Transport on a SimNetwork (made by `net.transport(id)`). Dials take one simulated
 * latency; the dialed transport emits 'link' just before the dial resolves.
 *
 * Dial outcomes: PEER_UNREACHABLE (no such id registered, after one latency), DIAL_TIMEOUT (the
 * peer is killed or partitioned away, after `dialTimeoutMs`), DIAL_FAILED (aborted, or self),
 * TRANSPORT_CLOSED. A killed node is inert: its dials never settle, its sends go nowhere.
 */
export class SimTransport implements Transport {
  readonly localId: string
  /** This node's clock: virtual time; its pending timers are cancelled when the node is killed. */
  readonly clock: Clock
  readonly #engine: SimEngine
  readonly #node: () => SimNode
  readonly #events: Emitter<TransportEvents>
  #closed: Promise<void> | undefined

  /** @internal Use `SimNetwork.transport(id)`. */
  constructor(engine: SimEngine, localId: string, clock: Clock, node: () => SimNode) {
    this.#engine = engine
    this.localId = localId
    this.clock = clock
    this.#node = node
    this.#events = new Emitter<TransportEvents>((err) => engine.listenerError(err))
  }

  dial(remoteId: string, options: { signal?: AbortSignal } = {}): Promise<Link> {
    const engine = this.#engine
    const node = this.#node()
    const { signal } = options
    if (this.#closed !== undefined) return Promise.reject(new TransportError('TRANSPORT_CLOSED', `transport '${this.localId}' is closed`))
    if (!node.alive) return new Promise<never>(() => {})
    if (signal?.aborted === true) return Promise.reject(aborted(remoteId, signal))
    if (remoteId === this.localId) return Promise.reject(new TransportError('DIAL_FAILED', `'${remoteId}' cannot dial itself`))

    return new Promise<Link>((resolve, reject) => {
      let pending: QueuedEvent | undefined
      const onAbort = (): void => finish(() => reject(aborted(remoteId, signal)))
      const finish = (settle: () => void): void => {
        signal?.removeEventListener('abort', onAbort)
        if (pending !== undefined) engine.cancel(pending)
        pending = undefined
        if (!node.alive) return // died while dialing: never settles
        settle()
      }
      const fail = (code: 'PEER_UNREACHABLE' | 'DIAL_TIMEOUT' | 'TRANSPORT_CLOSED', message: string): void => {
        engine.trace({ time: engine.now(), type: 'dial-failed', from: this.localId, to: remoteId })
        finish(() => reject(new TransportError(code, message)))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const started = engine.now()
      pending = engine.schedule(started + engine.latency(), () => {
        pending = undefined
        const remote = engine.node(remoteId)
        if (this.#closed !== undefined) return fail('TRANSPORT_CLOSED', `transport '${this.localId}' is closed`)
        if (!node.alive) return finish(() => {})
        if (remote === undefined) return fail('PEER_UNREACHABLE', `no node '${remoteId}' in the network`)
        if (!remote.alive || engine.blocked(this.localId, remoteId)) {
          pending = engine.schedule(started + engine.dialTimeoutMs, () => {
            pending = undefined
            fail('DIAL_TIMEOUT', `dial to '${remoteId}' timed out`)
          })
          return
        }
        finish(() => {
          const wire = new SimWire(engine, node, remote)
          remote.transport.#events.emit('link', wire.ends[1])
          resolve(wire.ends[0])
        })
      })
    })
  }

  on<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  /** Idempotent: unregisters the id (dials to it fail PEER_UNREACHABLE), then closes this node's links. */
  close(): Promise<void> {
    this.#closed ??= this.#teardown()
    return this.#closed
  }

  async #teardown(): Promise<void> {
    const node = this.#node()
    this.#engine.unregister(node)
    await Promise.all([...node.wires].map((wire) => wire.endOf(node).close()))
    this.#events.removeAll()
  }
}

function aborted(remoteId: string, signal: AbortSignal | undefined): TransportError {
  return new TransportError('DIAL_FAILED', `dial to '${remoteId}' aborted`, { cause: signal?.reason })
}
