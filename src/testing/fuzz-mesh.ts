import { MeshError, P2PError, WireError } from '../errors.js'
import type { MeshSocket } from '../mesh/mesh-socket.js'
import { meshFrame } from '../mesh/messages.js'
import type { MeshSocketOptions } from '../mesh/options.js'
import type { Link } from '../transport/types.js'
import { SUPPORTED_COMPRESSIONS } from '../wire/compression.js'
import { COMPRESSION } from '../wire/flags.js'
import { encodeFrame } from '../wire/frame.js'
import { meshCorpus, type FuzzCorpus } from './fuzz-corpus.js'
import { ERROR_CODES_ALL, describeThrown, type FuzzTarget } from './fuzz.js'
import { randomB58 } from './fuzz-msgpack.js'
import { SimNetwork } from './sim-network.js'
import { simMeshNode, type SimMeshNode } from './sim-mesh.js'

/**
 * The live-node target (test-only): a real MeshSocket on a SimNetwork with two honest neighbours
 * (a — node — b, so b hears a only through node) and a hostile peer that writes each fuzz input
 * as one message on its own link into the node. Per input, a crash is:
 *
 * - anything thrown by a link listener or timer (the simulator rethrows it from its run call);
 * - anything logged with console.error (an emitter swallowing a listener that threw);
 * - an 'error' event from the node that is not a P2PError with a known code, or a BAD_FRAME
 *   whose cause is not a WireError (the decoder threw something unnamed).
 *
 * The checkpoint asserts the node is still up: both honest links alive, a broadcast from a
 * reaches b through it, and its own broadcast reaches both. The bad-frame policy stays the default
 * (16, then the link is closed); whenever the hostile link is closed it dials again. Every 8th
 * connection skips the handshake, so inputs also hit a link that is still handshaking; the
 * handshakes advertise zlib+gzip, gzip only, or nothing, in turn.
 *
 * The node's state carries from input to input: replay a finding by rerunning the seed from 0.
 */
export interface MeshFuzzHarness {
  target: FuzzTarget
  /** The node under fuzz, its network and its honest neighbours' ids (tests plant faults through them). */
  socket: MeshSocket
  network: SimNetwork
  neighbours: readonly [string, string]
  corpus: FuzzCorpus
  /** Hostile connections made so far. */
  readonly connections: number
  /** Restores console.error and closes the sockets. */
  close(): Promise<void>
}

// The 0.7 (unsigned) mode: the hostile peer's frames reach the handlers without signatures.
// (The signed mode's own checks run before the handlers: see the signed-mode target.)
const UNSIGNED: MeshSocketOptions = { security: 'unsigned' }
const HONEST: MeshSocketOptions = { ...UNSIGNED, maxOutgoing: 1, maxIncoming: 0 }
const MAX_STEPS = 200_000
/** Virtual time the checkpoint gives the honest traffic (links re-forming included). */
const CHECK_WITHIN_MS = 60_000

export async function meshNodeHarness(seed: number, options: MeshSocketOptions = {}): Promise<MeshFuzzHarness> {
  const sim = new SimNetwork({ seed, latency: { min: 1, max: 1 } })
  const node = await simMeshNode(sim, [], { ...UNSIGNED, ...options })
  const a = await simMeshNode(sim, [node.id], HONEST)
  const b = await simMeshNode(sim, [node.id], HONEST)
  const linked = (): boolean => node.socket.peers.includes(a.id) && node.socket.peers.includes(b.id)
  if (!(await sim.runUntil(linked, MAX_STEPS))) throw new Error('fuzz harness: the honest neighbours did not connect')

  const hostileId = randomB58(sim.random, 66)
  const hostile = sim.transport(hostileId)
  const corpus = meshCorpus(hostileId, node.id, node.socket.protocolId, randomB58(sim.random, 66))
  const reported: unknown[] = []
  node.socket.on('error', (err) => reported.push(err))
  const logged: string[] = []
  const consoleError = console.error
  console.error = (...args: unknown[]) => void logged.push(args.map((x) => (x instanceof Error ? describeThrown(x) : String(x))).join(' '))

  let link: Link | undefined
  let connections = 0
  const connect = async (): Promise<void> => {
    connections++
    let dialled: Link | undefined
    void hostile.dial(node.id).then((l) => (dialled = l), () => {})
    if (!(await sim.runUntil(() => dialled !== undefined, MAX_STEPS))) throw new Error('fuzz harness: the hostile peer cannot dial the node')
    link = dialled!
    if (connections % 8 === 0) return // stays handshaking
    const compressions = [[...SUPPORTED_COMPRESSIONS], [COMPRESSION.gzip], []][connections % 3]!
    const handshake = meshFrame({ kind: 'handshake', id: hostileId, protocolId: node.socket.protocolId, compressions }, hostileId, 1)
    void link.send(encodeFrame(handshake)).catch(() => {})
    if (!(await sim.runUntil(() => node.socket.peers.includes(hostileId), MAX_STEPS))) throw new Error('fuzz harness: the node refused a valid handshake')
  }

  /** Runs the network until `predicate` holds, for at most CHECK_WITHIN_MS of virtual time. */
  const within = async (predicate: () => boolean): Promise<boolean> => {
    const deadline = sim.now() + CHECK_WITHIN_MS
    await sim.runUntil(() => predicate() || sim.now() > deadline, MAX_STEPS)
    return predicate()
  }
  let honestRound = 0
  const checkpoint = async (): Promise<void> => {
    honestRound++
    if (!(await within(linked))) throw new Error(`honest neighbours lost: the node has ${node.socket.peers.length} peers`)
    const got = (n: SimMeshNode, tag: string): boolean => n.messages.some((m) => m.payload[0] === tag)
    const fromA = `honest-a-${honestRound}`
    const fromNode = `honest-node-${honestRound}`
    void a.socket.send(fromA).catch(() => {})
    void node.socket.send(fromNode).catch(() => {})
    const ok = await within(() => got(b, fromA) && got(node, fromA) && got(a, fromNode) && got(b, fromNode))
    for (const n of [node, a, b]) {
      n.messages.length = 0
      n.delivered.clear()
    }
    if (!ok) throw new Error(`honest broadcasts did not arrive (round ${honestRound})`)
    if (logged.length > 0) throw new Error(`console.error: ${logged.splice(0).join(' | ')}`)
  }

  const target: FuzzTarget = {
    name: 'mesh-node',
    allows: () => false, // a link-level handler must not throw at all
    async run(bytes) {
      if (link === undefined || link.state === 'closed') await connect()
      const delivered = node.socket.stats.delivered
      void link!.send(bytes).catch(() => {})
      // Delivery takes 1 ms; a close the node decides on reaches the hostile end 1 ms later.
      await sim.runFor(2)
      const errors = reported.splice(0)
      if (logged.length > 0) throw new Error(`console.error: ${logged.splice(0).join(' | ')}`)
      for (const err of errors) {
        if (!(err instanceof P2PError) || !ERROR_CODES_ALL.has(err.code)) throw new Error(`unnamed 'error' event: ${describeThrown(err)}`)
        if (err instanceof MeshError && err.code === 'BAD_FRAME' && err.cause !== undefined && !(err.cause instanceof WireError)) {
          throw new Error(`BAD_FRAME caused by an unnamed error: ${describeThrown(err.cause)}`)
        }
      }
      const codes = errors.map((e) => {
        const cause = (e as P2PError).cause
        return cause instanceof WireError ? `${(e as P2PError).code}/${cause.code}` : (e as P2PError).code
      })
      return codes.length > 0 ? [...new Set(codes)].join('+') : node.socket.stats.delivered > delivered ? 'delivered' : 'ok'
    },
    checkpoint,
  }

  return {
    target,
    socket: node.socket,
    network: sim,
    neighbours: [a.id, b.id],
    corpus,
    get connections() {
      return connections
    },
    async close() {
      console.error = consoleError
      await hostile.close()
      let closed = false
      void Promise.all([node, a, b].map((n) => n.socket.close())).then(() => (closed = true))
      await sim.runUntil(() => closed, MAX_STEPS)
    },
  }
}
