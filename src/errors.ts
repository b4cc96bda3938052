/**
 * Named errors with stable codes. Tests and applications branch on `err.code`, never on
 * message text. Every error the library raises or emits is a `P2PError`.
 */

/** Codes raised while encoding or decoding frames and ids (src/wire). */
export const WIRE_ERROR_CODES = [
  'FRAME_TRUNCATED',
  'FRAME_LENGTH_MISMATCH',
  'FRAME_TOO_LARGE',
  'FRAME_CHECKSUM',
  'FRAME_MSGPACK',
  'FRAME_SHAPE',
  'FRAME_TOO_MANY_ITEMS',
  'FRAME_TOO_DEEP',
  'FRAME_UNSUPPORTED_TYPE',
  'FRAME_AUTH',
  'INVALID_PAYLOAD',
  'INVALID_BASE58',
  'UNKNOWN_COMPRESSION',
  'STREAM_BROKEN',
] as const
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number]

/** Codes raised by node identities (key pairs, signatures, the identity store). */
export const IDENTITY_ERROR_CODES = [
  'INVALID_KEY',
  'KEY_NOT_EXTRACTABLE',
  'CRYPTO_UNAVAILABLE',
  'STORAGE_UNAVAILABLE',
  'NO_FREE_SLOT',
] as const
export type IdentityErrorCode = (typeof IDENTITY_ERROR_CODES)[number]

/** Codes raised by links, transports and the signaling client. */
export const TRANSPORT_ERROR_CODES = [
  'LINK_CLOSED',
  'LINK_FAILED',
  'MESSAGE_TOO_LARGE',
  'DIAL_TIMEOUT',
  'DIAL_FAILED',
  'TRANSPORT_CLOSED',
  'PEER_UNREACHABLE',
  'SIGNALING_UNREACHABLE',
  'SIGNALING_CLOSED',
  'SIGNALING_REFUSED',
  'SIGNALING_TIMEOUT',
  'ID_TAKEN',
  'AUTH_FAILED',
  'RATE_LIMITED',
  'INVALID_MESSAGE',
  'WEBRTC_UNAVAILABLE',
  'INVALID_OPTION',
] as const
export type TransportErrorCode = (typeof TRANSPORT_ERROR_CODES)[number]

/** Codes raised or reported by the mesh (MeshSocket). */
export const MESH_ERROR_CODES = [
  'SUBNET_MISMATCH',
  'HANDSHAKE_TIMEOUT',
  'HANDSHAKE_FAILED',
  'PEER_TIMEOUT',
  'BAD_FRAME',
  'FORGED',
  'AUTH_FAILED',
  'RATE_LIMITED',
  'TOO_MANY_HANDSHAKES',
  'HANDLER_FAILED',
  'CONNECTION_BUDGET',
  'FLAG_TAKEN',
  'NOT_A_PEER',
  'MESH_CLOSED',
  'INVALID_ARGUMENT',
] as const
export type MeshErrorCode = (typeof MESH_ERROR_CODES)[number]

/** Codes raised or reported by the sync table (SyncSocket). */
export const SYNC_ERROR_CODES = [
  'LEASE_HELD',
  'KEY_TOO_LARGE',
  'VALUE_TOO_LARGE',
  'TOO_MANY_KEYS',
  'NOT_A_MAP',
  'INVALID_WRITE',
  'SYNC_CLOSED',
  'LEASE_LOST',
] as const
export type SyncErrorCode = (typeof SYNC_ERROR_CODES)[number]

/** Codes raised or reported by storage adapters (IndexedDB, memory). */
export const STORAGE_ERROR_CODES = ['STORAGE_FAILED', 'STORAGE_QUOTA', 'STORAGE_CLOSED'] as const
export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number]

export type ErrorCode = WireErrorCode | IdentityErrorCode | TransportErrorCode | MeshErrorCode | SyncErrorCode | StorageErrorCode

export class P2PError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** Bytes or values that do not form a valid p2p.today frame, payload, id or compression method. */
export class WireError extends P2PError {
  declare readonly code: WireErrorCode
  constructor(code: WireErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** A key pair, signature or identity storage problem. */
export class IdentityError extends P2PError {
  declare readonly code: IdentityErrorCode
  constructor(code: IdentityErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** A link, transport or signaling failure. */
export class TransportError extends P2PError {
  declare readonly code: TransportErrorCode
  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** A mesh-level problem: with a peer (`peerId`), a handler, or a call on a closed socket. */
export class MeshError extends P2PError {
  declare readonly code: MeshErrorCode
  /** The peer concerned, when there is one. */
  readonly peerId: string | undefined
  constructor(code: MeshErrorCode, message: string, options?: { cause?: unknown; peerId?: string | undefined }) {
    super(code, message, options)
    this.peerId = options?.peerId
  }
}

/** A sync-table problem: a refused write (`key`; `owner` and `expiresAt` for LEASE_HELD), a closed table. */
export class SyncError extends P2PError {
  declare readonly code: SyncErrorCode
  /** The key concerned, when there is one. */
  readonly key: string | undefined
  /** LEASE_HELD: the node holding the key's lease. */
  readonly owner: string | undefined
  /** LEASE_HELD: when the lease ends at the earliest (ms since the epoch, on the writers' clocks). */
  readonly expiresAt: number | undefined
  constructor(code: SyncErrorCode, message: string, options?: { cause?: unknown; key?: string; owner?: string; expiresAt?: number }) {
    super(code, message, options)
    this.key = options?.key
    this.owner = options?.owner
    this.expiresAt = options?.expiresAt
  }
}

/** A storage adapter failure: the medium refused (STORAGE_FAILED), is full (STORAGE_QUOTA), or is closed. */
export class StorageError extends P2PError {
  declare readonly code: StorageErrorCode
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** True when `err` is a P2PError carrying `code`. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof P2PError && err.code === code
}
