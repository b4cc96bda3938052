import { parseIceServers } from '../src/transport/signaling/messages.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../src/transport/signaling/protocol.js'

/** Plain options of the signaling server. Every bound has a default; docs/LIMITS.md lists them. */
export interface SignalingServerOptions {
  /** TCP port; 0 picks a free one. Default 9000. */
  port?: number
  /** Interface to bind. Default '127.0.0.1': exposing the server is an explicit choice. */
  host?: string
  /** Handed to every client at join (P2P-WELCOME). Default none. */
  iceServers?: RTCIceServer[]
  /** Registered clients, server-wide. Default 5000. */
  maxClients?: number
  /** Registered clients per remote IP address. Default 32. */
  maxClientsPerIp?: number
  /** Challenge requests plus WebSocket attempts per IP per minute (token bucket, bursts up to it). Default 120. */
  connectAttemptsPerMinute?: number
  /** Sustained messages per second per socket. Default 50. */
  messagesPerSecond?: number
  /** Messages a socket may send in a burst; also how many refused-for-rate messages in a row end it. Default 200. */
  messageBurst?: number
  /** Largest message in bytes, either direction (ws maxPayload; over it the socket is closed with 1009). Default 64 KiB. */
  maxMessageBytes?: number
  /** Peer ids in P2P-WELCOME / P2P-PEERS (random sample of the client's subnet). Default 8. */
  discoveryLimit?: number
  /** How long a challenge nonce stays valid. Default 30 s. */
  nonceTtlMs?: number
  /** A client that sends no HEARTBEAT for this long is dropped (PeerJS alive_timeout). Default 60 s. */
  aliveTimeoutMs?: number
}

/** Services the server uses; tests inject a fake clock and a seeded random. */
export interface SignalingServerServices {
  /** Milliseconds clock for nonces and rate limits. Default Date.now. */
  now?: () => number
  /** Uniform [0, 1) for discovery sampling. Default Math.random. */
  random?: () => number
  /** Where operational warnings go. Default: nowhere. */
  log?: (message: string, detail?: unknown) => void
}

export type ResolvedOptions = Required<SignalingServerOptions>

export const DEFAULT_OPTIONS: ResolvedOptions = {
  port: 9000,
  host: '127.0.0.1',
  iceServers: [],
  maxClients: 5000,
  maxClientsPerIp: 32,
  connectAttemptsPerMinute: 120,
  messagesPerSecond: 50,
  messageBurst: 200,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  discoveryLimit: 8,
  nonceTtlMs: 30_000,
  aliveTimeoutMs: 60_000,
}

const POSITIVE_INTEGERS = [
  'maxClients',
  'maxClientsPerIp',
  'connectAttemptsPerMinute',
  'messagesPerSecond',
  'messageBurst',
  'maxMessageBytes',
  'discoveryLimit',
  'nonceTtlMs',
  'aliveTimeoutMs',
] as const

/** Fills defaults and checks every value; throws a TypeError/RangeError naming the bad option. */
export function resolveOptions(options: SignalingServerOptions = {}): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SignalingServerOptions
  const resolved: ResolvedOptions = { ...DEFAULT_OPTIONS, ...defined }
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65_535) {
    throw new RangeError(`port must be an integer in 0..65535, got ${String(resolved.port)}`)
  }
  if (typeof resolved.host !== 'string' || resolved.host.length === 0) throw new TypeError('host must be a non-empty string')
  for (const key of POSITIVE_INTEGERS) {
    const value = resolved[key]
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${key} must be a positive integer, got ${String(value)}`)
  }
  if (resolved.maxMessageBytes < 1024) throw new RangeError('maxMessageBytes must be at least 1024')
  if (resolved.aliveTimeoutMs < 150) throw new RangeError('aliveTimeoutMs must be at least 150')
  const iceServers = parseIceServers(resolved.iceServers)
  if (iceServers === undefined) {
    throw new TypeError('iceServers must be an array (at most 16) of { urls: stun:/turn: URL(s), username?, credential? }')
  }
  return { ...resolved, iceServers }
}
