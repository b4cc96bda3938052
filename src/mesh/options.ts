import { MeshError } from '../errors.js'
import { DEFAULT_COMPRESSIONS } from '../wire/compression.js'
import { FRAME_DEFAULTS } from '../wire/frame.js'
import type { Identity, IdentityKeyPair } from '../wire/identity.js'
import type { SeenCacheLimits } from './seen-cache.js'

/**
 * The mesh's own options. The network's (signaling URL, ICE servers, WebRTC for Node, connection
 * budget) are the network factory's: MeshSocketOptions in the package entry joins the two.
 */
export interface MeshOptions {
  /** Nodes of different subnets refuse each other. Default 'default'. */
  subnet?: string
  /** Part of the protocol id with the subnet. Default 'webrtc'. */
  transportName?: string
  /**
   * Signed mode (default 'signed'): every link proves its key in the handshake, flooded and routed
   * messages carry their sender's Ed25519 signature, forgeries are dropped. 'unsigned' speaks
   * p2p.today 0.7 (any node can claim any id), for interoperability only. The two never link:
   * their protocol ids differ.
   */
  security?: 'signed' | 'unsigned'
  /**
   * This node's key pair. 'persistent' (the default where IndexedDB exists): kept in IndexedDB per
   * origin and subnet, so a page keeps its id (and so its leases) across reloads; one stored key
   * per open page (see loadIdentity). 'ephemeral' (the default elsewhere): a fresh one per socket.
   * Or an Identity / exported key pair of the application's.
   */
  identity?: Identity | IdentityKeyPair | 'persistent' | 'ephemeral'
  /** Signed mode: drop signed messages whose timestamp is further than this from our clock (replay window). Default 300 000 ms. */
  maxClockSkewMs?: number
  /** Frames accepted per second from one peer; more are dropped unread. Default 2 000. */
  maxMessagesPerSecond?: number
  /** A peer whose frames keep being dropped for the rate (no second without a drop) this long is dropped (RATE_LIMITED). Default 5 000 ms. */
  rateLimitGraceMs?: number
  /** Links still in their handshake at once; more are closed at once (TOO_MANY_HANDSHAKES). Default 16. */
  maxPendingHandshakes?: number
  /** WebRTC signal blobs relayed for one other node per minute; more are dropped. Default 60. */
  maxSignalRelaysPerMinute?: number
  /** Links this node dials and keeps. Default 4. */
  maxOutgoing?: number
  /** Links others dialled that this node accepts. Default 8. */
  maxIncoming?: number
  /** Compression preference list. Default [zlib, gzip]. */
  compressions?: number[]
  /** Ping a peer that has been silent this long. Default 5 000 ms. */
  keepaliveMs?: number
  /** Drop a peer silent this long (PEER_TIMEOUT). Default 15 000 ms. */
  peerTimeoutMs?: number
  handshakeTimeoutMs?: number
  /** Bad frames tolerated per link before it is closed. Default 16. */
  maxBadFrames?: number
  /** Unclaimed messages kept for recv(); the oldest is dropped past it. Default 1 024. */
  maxQueuedMessages?: number
  /** Dial candidates remembered. Default 256. */
  maxCandidates?: number
  /** A node with no peer asks the network (signaling server) for the subnet's nodes at most this often. Default 10 000 ms. */
  rediscoverMs?: number
  /**
   * About this often (± half) a node with peers checks that a random node of the subnet (from the
   * signaling server) is reachable through the mesh, unless it heard another node's check since
   * its last turn (so about one check per period in the whole mesh), and links to it if not: a
   * mesh cut into parts that each stayed linked joins again. Default 60 000 ms; 0 turns it off.
   */
  reachCheckMs?: number
  /** How long a reach check's ping waits for its pong. Default 10 000 ms. */
  reachTimeoutMs?: number
  seenCache?: Partial<SeenCacheLimits>
  maxFrameBytes?: number
}

interface MeshDefaults {
  subnet: string
  transportName: string
  security: 'signed' | 'unsigned'
  maxClockSkewMs: number
  maxMessagesPerSecond: number
  rateLimitGraceMs: number
  maxPendingHandshakes: number
  maxSignalRelaysPerMinute: number
  maxOutgoing: number
  maxIncoming: number
  keepaliveMs: number
  peerTimeoutMs: number
  handshakeTimeoutMs: number
  maxBadFrames: number
  maxQueuedMessages: number
  maxCandidates: number
  rediscoverMs: number
  reachCheckMs: number
  reachTimeoutMs: number
  /** How often peer maintenance runs when nothing triggers it. */
  maintainIntervalMs: number
}

export const MESH_DEFAULTS: Readonly<MeshDefaults> = Object.freeze({
  subnet: 'default',
  transportName: 'webrtc',
  security: 'signed',
  maxClockSkewMs: 300_000,
  maxMessagesPerSecond: 2_000,
  rateLimitGraceMs: 5_000,
  maxPendingHandshakes: 16,
  maxSignalRelaysPerMinute: 60,
  maxOutgoing: 4,
  maxIncoming: 8,
  keepaliveMs: 5_000,
  peerTimeoutMs: 15_000,
  handshakeTimeoutMs: 10_000,
  maxBadFrames: 16,
  maxQueuedMessages: 1_024,
  maxCandidates: 256,
  rediscoverMs: 10_000,
  reachCheckMs: 60_000,
  reachTimeoutMs: 10_000,
  maintainIntervalMs: 2_000,
})

export type ResolvedMeshOptions = MeshDefaults & {
  compressions: number[]
  seenCache: Partial<SeenCacheLimits>
  maxFrameBytes: number
}

/** Fills defaults and checks values; throws INVALID_ARGUMENT naming the bad option. */
export function resolveMeshOptions(options: MeshOptions): ResolvedMeshOptions {
  const resolved: ResolvedMeshOptions = { ...MESH_DEFAULTS, compressions: [...DEFAULT_COMPRESSIONS], seenCache: {}, maxFrameBytes: FRAME_DEFAULTS.maxFrameBytes }
  const fill = resolved as unknown as Record<string, unknown>
  // An option given (not undefined) replaces its default; the numeric ones must be numbers >= 0.
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || !(key in resolved) || key === 'maintainIntervalMs') continue
    if (typeof fill[key] === 'number' && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new MeshError('INVALID_ARGUMENT', `option ${key} must be a number >= 0, got ${String(value)}`)
    }
    fill[key] = value
  }
  if (typeof resolved.subnet !== 'string') throw new MeshError('INVALID_ARGUMENT', 'option subnet must be a string')
  if (resolved.security !== 'signed' && resolved.security !== 'unsigned') {
    throw new MeshError('INVALID_ARGUMENT', `option security must be 'signed' or 'unsigned', got ${String(resolved.security)}`)
  }
  if (!(resolved.maxMessagesPerSecond >= 1)) throw new MeshError('INVALID_ARGUMENT', `option maxMessagesPerSecond must be a number >= 1, got ${String(resolved.maxMessagesPerSecond)}`)
  return resolved
}
