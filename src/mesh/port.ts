import { MeshError, type P2PError } from '../errors.js'
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
    unregister: () => {
      registry.remove(protocol)
      onUnregister()
    },
  }
  return port
}
