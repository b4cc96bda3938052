import { getPublicKey } from '@noble/ed25519'
import { MeshSocket, type MeshServices, type ReceivedMessage } from '../mesh/mesh-socket.js'
import type { MeshOptions as MeshSocketOptions } from '../mesh/options.js'
import { Identity } from '../wire/identity.js'
import type { SimNetwork } from './sim-network.js'
import { syncDigest } from '../wire/frame.js'
import { SignatureVerifier } from '../wire/signed.js'
import type { Clock } from '../util/clock.js'

/** A MeshSocket node on a SimNetwork, with what it delivered (test-only). */
export interface SimMeshNode {
  id: string
  /** Its key pair (noble, seeded). */
  identity: Identity
  socket: MeshSocket
  /** Message id → times delivered to the application. */
  delivered: Map<string, number>
  messages: ReceivedMessage[]
}

/** A seeded noble identity (the same per simulation seed and draw order). */
export async function simIdentity(sim: SimNetwork): Promise<Identity> {
  const secretKey = sim.random.bytes(32)
  return Identity.fromKeyPair({ publicKey: getPublicKey(secretKey), secretKey }, { backend: 'noble' })
}

/**
 * Starts a mesh node on the simulated network: its own virtual clock, seeded randomness, and
 * bootstrap ids chosen by the test. Identities use the noble backend so the run is synchronous
 * and identical per seed.
 */
export async function simMeshNode(
  sim: SimNetwork,
  bootstrap: string[],
  options: MeshSocketOptions = {},
  /** Whether to subscribe to 'message' (without a listener, messages wait in recv()). */
  listen = true,
  /** Wraps the node's virtual clock (e.g. to make its thread look stalled). */
  wrapClock: (clock: Clock) => Clock = (clock) => clock,
  /** The network model's tag in the protocol id. */
  model = 'mesh',
  /** Builds the socket (a network model's, e.g. a SyncSocket); default a MeshSocket of `model`. */
  make: (options: MeshSocketOptions, services: MeshServices) => MeshSocket = (o, s) => new MeshSocket(o, s, model),
): Promise<SimMeshNode> {
  const identity = options.identity instanceof Identity ? options.identity : await simIdentity(sim)
  const transport = sim.transport(identity.id)
  const random = sim.random.fork()
  const socket = make(
    { subnet: 'sim', ...options, identity },
    {
      clock: wrapClock(transport.clock),
      random: () => random.next(),
      network: async () => ({
        transport,
        bootstrap,
        ...(sim.discovery ? { discover: () => Promise.resolve(sim.discover(identity.id)) } : {}),
        close: () => transport.close(),
      }),
      // Deterministic: WebCrypto digests and signature checks finish on a thread pool, outside the
      // simulation's order; these answer at once, and nonces come from the seed.
      digest: syncDigest,
      verifier: new SignatureVerifier({ backend: 'noble' }),
      randomBytes: (n) => random.bytes(n),
    },
  )
  const node: SimMeshNode = { id: identity.id, identity, socket, delivered: new Map(), messages: [] }
  if (listen) {
    socket.on('message', (m) => {
      node.delivered.set(m.id, (node.delivered.get(m.id) ?? 0) + 1)
      node.messages.push(m)
    })
  }
  socket.on('error', () => {})
  return node
}

/** Nodes reachable from `origin` over current mesh links (both ends agree the link is up), optionally only through `within`. */
export function componentOf(origin: SimMeshNode, nodes: Map<string, SimMeshNode>, within?: Set<string>): Set<string> {
  const seen = new Set([origin.id])
  const stack = [origin]
  while (stack.length > 0) {
    const n = stack.pop()!
    for (const p of n.socket.peers) {
      const other = nodes.get(p)
      if (other === undefined || seen.has(p) || !other.socket.peers.includes(n.id) || (within !== undefined && !within.has(p))) continue
      seen.add(p)
      stack.push(other)
    }
  }
  return seen
}
