/**
 * p2p-today: peer-to-peer networking in the browser over WebRTC.
 * The public entry: factories, types and errors — nothing else.
 */
export * from './wire/index.js'
export { P2PError, WireError, IdentityError, TransportError, hasCode, WIRE_ERROR_CODES, IDENTITY_ERROR_CODES, TRANSPORT_ERROR_CODES } from './errors.js'
export type { ErrorCode, WireErrorCode, IdentityErrorCode, TransportErrorCode } from './errors.js'
export { toHex, fromHex } from './util/bytes.js'
