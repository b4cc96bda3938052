import { MeshError, type P2PError } from '../errors.js'
import { toHex } from '../util/bytes.js'
import type { DecodedFrame } from '../wire/frame.js'
import { routeOf, type ProtocolWire } from './messages.js'
import type { MeshProtocol, ProtocolMessage, ProtocolRegistry } from './protocol.js'

export interface DeliveryHost {
  readonly registry: ProtocolRegistry
  /** Whether origins are proven (the signed mode). */
  readonly proven: boolean
  /** Whispers back to `to` under `sub` (direct if a neighbour, else routed). */
  reply(protocol: MeshProtocol, to: string, sub: number, items: unknown[]): Promise<void>
  report(err: P2PError): void
}

/**
 * Hands each protocol what is its: decoded messages (to the owner of their sub flag), and the
 * peer events. A handler that throws is reported (HANDLER_FAILED) and the others still run.
 */
export class Delivery {
  readonly #host: DeliveryHost
  /** Messages handed to a protocol since start. */
  delivered = 0

  constructor(host: DeliveryHost) {
    this.#host = host
  }

  /** A protocol message for this node, decoded by its owner on arrival (`message.claim`). */
  deliver(message: ProtocolWire, frame: DecodedFrame, via: string): void {
    const owner = message.claim
    if (owner === undefined) return // decoded without a registry: never on a socket's links
    const { protocol } = owner
    const origin = frame.sender
    const route = routeOf(message)
    const delivered: ProtocolMessage = {
      route,
      sub: owner.claim.sub,
      value: message.value,
      origin,
      proven: this.#host.proven,
      ...(frame.auth === undefined ? {} : { publicKey: frame.auth.publicKey }),
      via,
      id: toHex(frame.id),
      time: frame.time,
      reply: (sub, ...items) => this.#host.reply(protocol, origin, sub, items),
    }
    this.delivered++
    this.#run(protocol, () => protocol.onMessage(delivered), origin)
  }

  peer(id: string): void {
    for (const protocol of [...this.#host.registry.protocols]) this.#run(protocol, () => protocol.onPeer?.(id), id)
  }

  peerLeft(id: string, reason: P2PError | undefined): void {
    for (const protocol of [...this.#host.registry.protocols]) this.#run(protocol, () => protocol.onPeerLeft?.(id, reason), id)
  }

  #run(protocol: MeshProtocol, f: () => void, peerId: string): void {
    try {
      f()
    } catch (err: unknown) {
      this.#host.report(new MeshError('HANDLER_FAILED', `a ${protocol.name} handler threw`, { cause: err, peerId }))
    }
  }
}
