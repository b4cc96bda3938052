import { MeshError } from '../errors.js'
import type { SignalingSocketConstructor } from '../transport/signaling/signaling-client.js'
import type { WrtcImplementation } from '../transport/webrtc/webrtc-transport.js'
import { SUPPORTED_COMPRESSIONS } from '../wire/compression.js'
import { FRAME_DEFAULTS } from '../wire/frame.js'
import type { Identity } from '../wire/identity.js'
import type { SeenCacheLimits } from './seen-cache.js'

export interface MeshSocketOptions {
  /** The signaling server's URL (required with the default WebRTC network). */
  signaling?: string
  /** Nodes of different subnets refuse each other. Default 'default'. */
  subnet?: string
  /** Part of the protocol id with the subnet. Default 'webrtc'. */
  transportName?: string
  /** STUN/TURN servers; default: what the signaling server hands out (none unless configured). */
  iceServers?: RTCIceServer[]
  /** This node's key pair; default: a fresh one. */
  identity?: Identity
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
  /** Stop dialling once the page has created this many RTCPeerConnections (Chromium: 500 per page). Default 400. */
  connectionBudget?: number
  /** Dial candidates remembered. Default 256. */
  maxCandidates?: number
  seenCache?: Partial<SeenCacheLimits>
  maxFrameBytes?: number
  /** Give up on a WebRTC connection attempt after this long. Default 20 000 ms (WebRtcTransport's). */
  dialTimeoutMs?: number
  /** Node only: a WebRTC implementation (`@roamhq/wrtc`). */
  wrtc?: WrtcImplementation
  /** Node 20 only: a WebSocket implementation (`ws`) for the signaling client. */
  WebSocket?: SignalingSocketConstructor
}

interface MeshDefaults {
  subnet: string
  transportName: string
  maxOutgoing: number
  maxIncoming: number
  keepaliveMs: number
  peerTimeoutMs: number
  handshakeTimeoutMs: number
  maxBadFrames: number
  maxQueuedMessages: number
  connectionBudget: number
  maxCandidates: number
  /** How often peer maintenance runs when nothing triggers it. */
  maintainIntervalMs: number
}

export const MESH_DEFAULTS: Readonly<MeshDefaults> = Object.freeze({
  subnet: 'default',
  transportName: 'webrtc',
  maxOutgoing: 4,
  maxIncoming: 8,
  keepaliveMs: 5_000,
  peerTimeoutMs: 15_000,
  handshakeTimeoutMs: 10_000,
  maxBadFrames: 16,
  maxQueuedMessages: 1_024,
  connectionBudget: 400,
  maxCandidates: 256,
  maintainIntervalMs: 2_000,
})

export type ResolvedMeshOptions = MeshDefaults & {
  signaling: string
  compressions: number[]
  seenCache: Partial<SeenCacheLimits>
  maxFrameBytes: number
}

/** Fills defaults and checks values; throws INVALID_ARGUMENT naming the bad option. */
export function resolveMeshOptions(options: MeshSocketOptions, customNetwork: boolean): ResolvedMeshOptions {
  if (!customNetwork && (typeof options.signaling !== 'string' || options.signaling === '')) {
    throw new MeshError('INVALID_ARGUMENT', 'MeshSocket needs a `signaling` server URL')
  }
  const resolved: ResolvedMeshOptions = {
    ...MESH_DEFAULTS,
    signaling: options.signaling ?? '',
    subnet: options.subnet ?? MESH_DEFAULTS.subnet,
    transportName: options.transportName ?? MESH_DEFAULTS.transportName,
    maxOutgoing: options.maxOutgoing ?? MESH_DEFAULTS.maxOutgoing,
    maxIncoming: options.maxIncoming ?? MESH_DEFAULTS.maxIncoming,
    keepaliveMs: options.keepaliveMs ?? MESH_DEFAULTS.keepaliveMs,
    peerTimeoutMs: options.peerTimeoutMs ?? MESH_DEFAULTS.peerTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? MESH_DEFAULTS.handshakeTimeoutMs,
    maxBadFrames: options.maxBadFrames ?? MESH_DEFAULTS.maxBadFrames,
    maxQueuedMessages: options.maxQueuedMessages ?? MESH_DEFAULTS.maxQueuedMessages,
    connectionBudget: options.connectionBudget ?? MESH_DEFAULTS.connectionBudget,
    maxCandidates: options.maxCandidates ?? MESH_DEFAULTS.maxCandidates,
    compressions: options.compressions ?? [...SUPPORTED_COMPRESSIONS],
    seenCache: options.seenCache ?? {},
    maxFrameBytes: options.maxFrameBytes ?? FRAME_DEFAULTS.maxFrameBytes,
  }
  for (const key of ['maxOutgoing', 'maxIncoming', 'keepaliveMs', 'peerTimeoutMs', 'handshakeTimeoutMs', 'maxBadFrames', 'maxQueuedMessages', 'connectionBudget', 'maxCandidates', 'maxFrameBytes'] as const) {
    const v = resolved[key]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new MeshError('INVALID_ARGUMENT', `option ${key} must be a number >= 0, got ${String(v)}`)
  }
  if (typeof resolved.subnet !== 'string') throw new MeshError('INVALID_ARGUMENT', 'option subnet must be a string')
  return resolved
}
