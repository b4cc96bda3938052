import type { TransportErrorCode } from '../../errors.js'
import { utf8 } from '../../util/bytes.js'

/**
 * The signaling protocol, shared by the client (this folder) and the server (signaling/).
 * It is the PeerJS server protocol plus identity-tied registration and per-subnet discovery;
 * docs/protocol.md describes it message by message.
 */

/** Relative to the server URL: the challenge endpoint and the WebSocket endpoint. */
export const CHALLENGE_PATH = 'p2p/challenge'
export const SOCKET_PATH = 'peerjs'
/** The PeerJS "API key" query parameter; the server accepts only this value. */
export const PEERJS_KEY = 'peerjs'

/** Domain separation for the registration signature. */
export const SIGNATURE_CONTEXT = 'p2p-today-signaling'

/** The bytes a node signs to register `id` in subnet `net` with a challenge `nonce`. */
export function registrationMessage(nonce: string, id: string, net: string): Uint8Array {
  return utf8(`${SIGNATURE_CONTEXT}|${nonce}|${id}|${net}`)
}

/** Message `type` values: PeerJS's, plus three of ours (prefixed P2P-). */
export const MessageType = {
  OPEN: 'OPEN',
  LEAVE: 'LEAVE',
  CANDIDATE: 'CANDIDATE',
  OFFER: 'OFFER',
  ANSWER: 'ANSWER',
  EXPIRE: 'EXPIRE',
  HEARTBEAT: 'HEARTBEAT',
  ID_TAKEN: 'ID-TAKEN',
  ERROR: 'ERROR',
  /** Server → client after OPEN: own subnet's bootstrap peers, ICE servers, limits. */
  WELCOME: 'P2P-WELCOME',
  /** Client → server: asks for a fresh sample of its subnet's peers. */
  DISCOVER: 'P2P-DISCOVER',
  /** Server → client: the answer to DISCOVER. */
  PEERS: 'P2P-PEERS',
} as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** The PeerJS types that carry a simple-peer signal object as their payload. */
export const RELAY_TYPES = [MessageType.OFFER, MessageType.ANSWER, MessageType.CANDIDATE] as const
export type RelayType = (typeof RELAY_TYPES)[number]

/** Why the server refused a connection or a message (in ERROR/ID-TAKEN payloads as `reason`). */
export const REFUSAL_REASONS = [
  'BAD_REQUEST',
  'BAD_SIGNATURE',
  'ID_MISMATCH',
  'STALE_NONCE',
  'ID_TAKEN',
  'RATE_LIMITED',
  'SERVER_FULL',
  'INVALID_MESSAGE',
  'UNKNOWN_PEER',
] as const
export type RefusalReason = (typeof REFUSAL_REASONS)[number]

export function isRefusalReason(value: unknown): value is RefusalReason {
  return typeof value === 'string' && (REFUSAL_REASONS as readonly string[]).includes(value)
}

/**
 * WebSocket close codes (4000–4999 is the application range) the server uses after a refusal,
 * so that a client that missed the ERROR frame still learns why. 4xxx mirrors HTTP statuses.
 */
export const CLOSE_CODES = {
  BAD_REQUEST: 4400,
  BAD_SIGNATURE: 4401,
  ID_MISMATCH: 4403,
  STALE_NONCE: 4410,
  ID_TAKEN: 4409,
  RATE_LIMITED: 4429,
  SERVER_FULL: 4503,
  INVALID_MESSAGE: 4422,
  UNKNOWN_PEER: 4404,
} as const satisfies Record<RefusalReason, number>

/**
 * Close code (and close reason text) for a session that a newer registration of the same id,
 * in the same subnet, replaced: the newer socket proved the id's key with a fresh nonce, so it
 * takes the id over and the older one is closed with this code, without an ERROR frame. It is
 * not a refusal, hence outside the 44xx/45xx range (it mirrors HTTP 301: the session moved).
 * A client that gets it should not reconnect on its own: another holder of its key is online,
 * and two that keep reconnecting would replace each other forever.
 */
export const CLOSE_REPLACED = 4301
export const REPLACED_CLOSE_REASON = 'REPLACED'

/** Standard close codes the client interprets. */
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_MESSAGE_TOO_BIG = 1009

export function reasonForCloseCode(code: number): RefusalReason | undefined {
  for (const reason of REFUSAL_REASONS) if (CLOSE_CODES[reason] === code) return reason
  return undefined
}

/** The TransportError code a client raises for a server refusal. */
export function errorCodeForReason(reason: RefusalReason | undefined): TransportErrorCode {
  switch (reason) {
    case 'BAD_SIGNATURE':
    case 'ID_MISMATCH':
    case 'STALE_NONCE':
      return 'AUTH_FAILED'
    case 'ID_TAKEN':
      return 'ID_TAKEN'
    case 'RATE_LIMITED':
      return 'RATE_LIMITED'
    case 'INVALID_MESSAGE':
      return 'INVALID_MESSAGE'
    case 'UNKNOWN_PEER':
      return 'PEER_UNREACHABLE'
    default:
      return 'SIGNALING_REFUSED'
  }
}

/**
 * A node id or protocol id (base58, 1–66 characters; the shape only, ownership is checked by
 * signature): the wire's one id check, `isNodeId`, under the name the client and server use.
 */
export { isNodeId as isBase58Id, MAX_ID_LENGTH } from '../../wire/base58.js'

/** Default cap on one WebSocket message, both directions (server `maxMessageBytes`). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
/** Most peer ids a client accepts in one WELCOME/PEERS message. */
export const MAX_PEERS_PER_MESSAGE = 256
