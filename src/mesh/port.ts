import { MeshError, type P2PError } from '../errors.js'
import { concatBytes, utf8 } from '../util/bytes.js'
import { isNodeId } from '../wire/base58.js'
import type { Originator } from './originator.js'
import type { PeerTable } from './peer-table.js'
import type { MeshPort, MeshProtocol, ProtocolRegistry } from './protocol.js'
import type { Router } from './router.js'

/** What sending needs once the mesh is started. */
export interface Live {
  router: Router
  table: PeerTable
  originator: Originator
}

export interface PortHost {
  /** This node's id; throws before start-up made the identity. */
  readonly id: string
  readonly registry: ProtocolRegistry
  /** Throws MESH_CLOSED after close(), INVALID_ARGUMENT while starting. */
  live(): Live
  connect(id: string): Promise<void>
  report(err: P2PError): void
  /** The signed mode's services (undefined in the unsigned mode). */
  signing(): PortSigning | undefined
}

export interface PortSigning {
  readonly protocolId: string
  readonly publicKey: Uint8Array
  sign(data: Uint8Array): Promise<Uint8Array>
  idMatches(publicKey: Uint8Array, id: string): boolean
  verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>
}

const PORT_CONTEXT = utf8('p2p-today/protocol-statement\0')
const ZERO = new Uint8Array(1)

/** What a port signature covers: a context, the protocol id and name, then the data. */
export function statementInput(protocolId: string, protocol: string, data: Uint8Array): Uint8Array {
  return concatBytes(PORT_CONTEXT, utf8(protocolId), ZERO, utf8(protocol), ZERO, data)
}

/** Throws INVALID_ARGUMENT unless `id` is a node id other than ours. */
export function checkPeerId(host: { readonly id: string }, id: unknown, call: string): asserts id is string {
  if (!isNodeId(id)) throw new MeshError('INVALID_ARGUMENT', `${call} needs a node id (base58)`)
  if (id === host.id) throw new MeshError('INVALID_ARGUMENT', `${call}: that is this node's own id`)
}

/**
 * The port a registered protocol sends through: every message takes the path user messages take
 * (encoded once, a unique id, signed in the signed mode, deduplicated, compressed per link, with
 * backpressure); a claim's `urgent` puts its messages on the links' urgent lane. Argument errors
 * throw at once; a sub flag the protocol did not claim on that route is INVALID_ARGUMENT.
 */
export function openPort(host: PortHost, protocol: MeshProtocol, onUnregister: () => void): MeshPort {
  const { registry } = host
  const routed = (to: string, sub: number, items: unknown[]): Promise<void> => {
    const claim = registry.owned(protocol, 'routed', sub)
    const { router, originator } = host.live()
    return originator.originate({ kind: 'routed-whisper', sub, target: to, payload: items, claim }, ({ body, id }) =>
      router.route(body, id, to, claim.claim.urgent === true),
    )
  }
  const needSigning = (): PortSigning => {
    const s = host.signing()
    if (s === undefined) throw new MeshError('INVALID_ARGUMENT', 'sign/verify/publicKey need the signed mode')
    return s
  }
  const port: MeshPort = {
    get id() {
      return host.id
    },
    get peers() {
      return host.live().table.ids()
    },
    broadcast(sub, ...items) {
      const claim = registry.owned(protocol, 'broadcast', sub)
      const { router, originator } = host.live()
      return originator.originate({ kind: 'broadcast', sub, payload: items, claim }, ({ body, id }) => router.broadcast(body, id, claim.claim.urgent === true))
    },
    whisper(to, sub, ...items) {
      const { table } = host.live()
      checkPeerId(host, to, 'whisper(to, sub, ...items)')
      const neighbour = table.peers.get(to)
      if (neighbour === undefined) return routed(to, sub, items)
      return neighbour.send({ kind: 'whisper', sub, payload: items, claim: registry.owned(protocol, 'whisper', sub) })
    },
    direct(to, sub, ...items) {
      const { table } = host.live()
      checkPeerId(host, to, 'direct(to, sub, ...items)')
      const claim = registry.owned(protocol, 'whisper', sub)
      const neighbour = table.peers.get(to)
      if (neighbour === undefined) throw new MeshError('NOT_A_PEER', `${to} is not a neighbour`, { peerId: to })
      return neighbour.send({ kind: 'whisper', sub, payload: items, claim })
    },
    routed(to, sub, ...items) {
      host.live()
      checkPeerId(host, to, 'routed(to, sub, ...items)')
      return routed(to, sub, items)
    },
    connect: (id) => host.connect(id),
    disconnect(id) {
      const link = host.live().table.peers.get(id)
      return link === undefined ? Promise.resolve() : link.close()
    },
    report: (err) => host.report(err),
    get signed() {
      return host.signing() !== undefined
    },
    get publicKey() {
      return needSigning().publicKey
    },
    sign(data) {
      const s = needSigning()
      return s.sign(statementInput(s.protocolId, protocol.name, data))
    },
    verify(signer, publicKey, data, signature) {
      const s = needSigning()
      if (!(publicKey instanceof Uint8Array) || !s.idMatches(publicKey, signer)) return false
      return s.verify(publicKey, statementInput(s.protocolId, protocol.name, data), signature)
    },
    unregister: () => {
      registry.remove(protocol)
      onUnregister()
    },
  }
  return port
}
