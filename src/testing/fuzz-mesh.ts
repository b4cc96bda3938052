import { MeshError, P2PError, WireError } from '../errors.js'
import type { MeshSocket } from '../mesh/mesh-socket.js'
import { meshFrame } from '../mesh/messages.js'
import type { MeshOptions as MeshSocketOptions } from '../mesh/options.js'
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
 * The live-node targets (test-only): a real MeshSocket on a SimNetwork with two honest neighbours
 * (a — node — b, so b hears a only through node) and a hostile peer that writes each fuzz input
 * as one message on its own link into the node. 'mesh-node' (here) runs the 0.7 (unsigned) mode;
 * 'mesh-node-signed' (fuzz-mesh-signed.ts) the signed mode. Per input, a crash is:
 *
 * - anything thrown by a link listener or timer (the simulator rethrows it from its run call);
 * - anything logged with console.error (an emitter swallowing a listener that threw);
 * - an 'error' event from the node that is not a P2PError with a code it may report for a peer's
 *   input (LIVE_CODES), or a BAD_FRAME whose cause is not a WireError (the decoder threw something
 *   unnamed); an error that blames an honest neighbour, or any error at an honest neighbour;
 * - a finding of the target's own checks (the signed target: a forged message delivered).
 *
 * The checkpoint asserts the node is still up: both honest links alive, a broadcast from a
 * reaches b through it, and its own broadcast reaches both. The bad-frame policy stays the default
 * (16, then the link is closed); whenever the hostile link is closed it dials again, before the
 * next input is made. One input advances virtual time by 2 ms: the hostile peer sends at most 500
 * frames a second, a quarter of the node's default rate limit (2 000/s), which stays in force.
 *
 * The node's state carries from input to input: replay a finding by rerunning the seed from 0.
 */
export interface MeshFuzzHarness {
  target: FuzzTarget
  /** The node under fuzz, its network and its honest neighbours' ids (tests plant faults through them). */
  socket: MeshSocket
  network: SimNetwork
  neighbours: readonly [string, string]
  /** The honest neighbours themselves. */
  honest: readonly [SimMeshNode, SimMeshNode]
  corpus: FuzzCorpus
  /** Hostile connections made so far. */
  readonly connections: number
  /** Restores console.error and closes the sockets. */
  close(): Promise<void>
}

export const MAX_STEPS = 200_000
/** Virtual time the checkpoint gives the honest traffic (links re-forming included). */
const CHECK_WITHIN_MS = 60_000
/** Virtual time one input gets: delivery takes 1 ms; a close the node decides on reaches the hostile end 1 ms later. */
const INPUT_MS = 2

/**
 * Codes the node may report because of what a peer sent (or did not send). Anything else, e.g.
 * HANDLER_FAILED, MESH_CLOSED or INVALID_ARGUMENT, is a crash.
 */
export const LIVE_CODES: ReadonlySet<string> = new Set([
  'BAD_FRAME', 'FORGED', 'AUTH_FAILED', 'HANDSHAKE_FAILED', 'HANDSHAKE_TIMEOUT', 'SUBNET_MISMATCH',
  'RATE_LIMITED', 'TOO_MANY_HANDSHAKES', 'PEER_TIMEOUT',
])

/** The node and its two honest neighbours, linked: a — node — b. */
export interface LiveScene {
  sim: SimNetwork
  node: SimMeshNode
  a: SimMeshNode
  b: SimMeshNode
}

export async function liveScene(seed: number, nodeOptions: MeshSocketOptions, honestOptions: MeshSocketOptions): Promise<LiveScene> {
  const sim = new SimNetwork({ seed, latency: { min: 1, max: 1 } })
  const node = await simMeshNode(sim, [], nodeOptions)
  const honest = { ...honestOptions, maxOutgoing: 1, maxIncoming: 0 }
  const a = await simMeshNode(sim, [node.id], honest)
  const b = await simMeshNode(sim, [node.id], honest)
  const scene = { sim, node, a, b }
  if (!(await sim.runUntil(() => linked(scene), MAX_STEPS))) throw new Error('fuzz harness: the honest neighbours did not connect')
  return scene
}

const linked = ({ node, a, b }: LiveScene): boolean => node.socket.peers.includes(a.id) && node.socket.peers.includes(b.id)

/** The hostile side of a live target. */
export interface Hostile {
  /** The id its links show (and its handshakes claim). */
  id: string
  corpus: FuzzCorpus
  /** Opens hostile connection number `n` (from 1) to the node, shaking hands or not; the link inputs go on. */
  connect(n: number): Promise<Link>
  /** The target's own checks, after each input and at each checkpoint: throws a finding. */
  check?(): void
  close(): Promise<void>
}

/** The target, its checkpoint and the bookkeeping shared by the live targets. */
export async function liveHarness(name: string, scene: LiveScene, hostile: Hostile): Promise<MeshFuzzHarness> {
  const { sim, node, a, b } = scene
  const reported: unknown[] = []
  node.socket.on('error', (err) => reported.push(err))
  const honestErrors: string[] = []
  for (const n of [a, b]) n.socket.on('error', (err) => honestErrors.push(`${n === a ? 'a' : 'b'}: ${describeThrown(err)}`))
  const logged: string[] = []
  const consoleError = console.error
  console.error = (...args: unknown[]) => void logged.push(args.map((x) => (x instanceof Error ? describeThrown(x) : String(x))).join(' '))

  let link: Link | undefined
  let connections = 0
  const ensureLink = async (): Promise<void> => {
    if (link !== undefined && link.state !== 'closed') return
    link = await hostile.connect(++connections)
  }
  const findings = (): void => {
    if (logged.length > 0) throw new Error(`console.error: ${logged.splice(0).join(' | ')}`)
    if (honestErrors.length > 0) throw new Error(`an honest neighbour reported an error: ${honestErrors.splice(0).join(' | ')}`)
    hostile.check?.()
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
    if (!(await within(() => linked(scene)))) throw new Error(`honest neighbours lost: the node has ${node.socket.peers.length} peers`)
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
    findings()
  }

  const target: FuzzTarget = {
    name,
    allows: () => false, // a link-level handler must not throw at all
    async run(bytes) {
      await ensureLink()
      const before = { ...node.socket.stats, ready: node.socket.peers.includes(hostile.id) }
      void link!.send(bytes).catch(() => {})
      await sim.runFor(INPUT_MS)
      const after = { ...node.socket.stats, ready: node.socket.peers.includes(hostile.id) }
      // Dial again now if the node closed the link, so that the next input is made for the new one.
      await ensureLink()
      const errors = reported.splice(0)
      findings()
      for (const err of errors) {
        if (!(err instanceof P2PError) || !ERROR_CODES_ALL.has(err.code)) throw new Error(`unnamed 'error' event: ${describeThrown(err)}`)
        if (!LIVE_CODES.has(err.code)) throw new Error(`'error' event with a code no peer input should cause: ${describeThrown(err)}`)
        if (err instanceof MeshError && err.code === 'BAD_FRAME' && err.cause !== undefined && !(err.cause instanceof WireError)) {
          throw new Error(`BAD_FRAME caused by an unnamed error: ${describeThrown(err.cause)}`)
        }
        if (err instanceof MeshError && (err.peerId === a.id || err.peerId === b.id)) throw new Error(`an honest neighbour was blamed: ${describeThrown(err)}`)
      }
      const codes = errors.map((e) => {
        const cause = (e as P2PError).cause
        return cause instanceof WireError ? `${(e as P2PError).code}/${cause.code}` : (e as P2PError).code
      })
      if (codes.length > 0) return [...new Set(codes)].join('+')
      if (after.delivered > before.delivered) return 'delivered'
      if (!before.ready && after.ready) return 'ready'
      if (after.stale > before.stale) return 'stale'
      if (after.rateLimited > before.rateLimited) return 'rate'
      if (after.duplicates > before.duplicates) return 'duplicate'
      return 'ok'
    },
    checkpoint,
  }
  await ensureLink()

  return {
    target,
    socket: node.socket,
    network: sim,
    neighbours: [a.id, b.id],
    honest: [a, b],
    corpus: hostile.corpus,
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

// The 0.7 (unsigned) mode: the hostile peer's frames reach the handlers without signatures.
// (The signed mode's own checks run before the handlers: see the signed-mode target.)
const UNSIGNED: MeshSocketOptions = { security: 'unsigned' }

/**
 * 'mesh-node': the 0.7 mode. The hostile peer claims a random id; every 8th connection skips the
 * handshake, so inputs also hit a link that is still handshaking; the handshakes advertise
 * zlib+gzip, gzip only, or nothing, in turn.
 */
export async function meshNodeHarness(seed: number, options: MeshSocketOptions = {}): Promise<MeshFuzzHarness> {
  const scene = await liveScene(seed, { ...UNSIGNED, ...options }, UNSIGNED)
  const { sim, node } = scene
  const hostileId = randomB58(sim.random, 66)
  const transport = sim.transport(hostileId)
  const corpus = meshCorpus(hostileId, node.id, node.socket.protocolId, randomB58(sim.random, 66))
  return liveHarness('mesh-node', scene, {
    id: hostileId,
    corpus,
    async connect(n) {
      const link = await dial(sim, transport, node.id)
      if (n % 8 === 0) return link // stays handshaking
      const compressions = [[...SUPPORTED_COMPRESSIONS], [COMPRESSION.gzip], []][n % 3]!
      const handshake = meshFrame({ kind: 'handshake', id: hostileId, protocolId: node.socket.protocolId, compressions }, hostileId, 1)
      void link.send(encodeFrame(handshake)).catch(() => {})
      if (!(await sim.runUntil(() => node.socket.peers.includes(hostileId), MAX_STEPS))) throw new Error('fuzz harness: the node refused a valid handshake')
      return link
    },
    close: () => transport.close(),
  })
}

/** A link from `transport` to `to`, dialled on the simulated network. */
export async function dial(sim: SimNetwork, transport: ReturnType<SimNetwork['transport']>, to: string): Promise<Link> {
  let dialled: Link | undefined
  void transport.dial(to).then((l) => (dialled = l), () => {})
  if (!(await sim.runUntil(() => dialled !== undefined, MAX_STEPS))) throw new Error('fuzz harness: the hostile peer cannot dial the node')
  return dialled!
}
