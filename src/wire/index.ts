/**
 * The p2p.today 0.7 wire layer: frames, flags, ids, compression, identities. Pure: no I/O.
 * Names exported here are a stable interface for tools and later layers.
 */
export { FLAGS, COMPRESSION, RESERVED_FLAG_MAX } from './flags.js'
export type { Flag, FlagName, CompressionMethod, CompressionName } from './flags.js'
export { b58encode, b58decode, isB58, B58_ALPHABET } from './base58.js'
export {
  PROTOCOL_VERSION,
  RING,
  protocolId,
  nodeIdFromBytes,
  nodeIdFromPublicKey,
  chordPositions,
  ringPosition,
  distance,
} from './ids.js'
export {
  encodeFrame,
  decodeFrame,
  decodeFrameWith,
  encodeBody,
  packFrame,
  sealBody,
  bodyOf,
  frameBody,
  syncDigest,
  webDigest,
  ASYNC_DIGEST_BYTES,
  FRAME_DEFAULTS,
  MAX_SENDER_LENGTH,
  LEN_BYTES,
  ID_BYTES,
  AUTH_KIND,
  AUTH_OVERHEAD,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
} from './frame.js'
export type { FrameMessage, DecodedFrame, EncodeOptions, DecodeOptions, FrameVariant, FrameAuth, Digest } from './frame.js'
export {
  SIGNED_TRANSPORT_SUFFIX,
  NONCE_BYTES,
  signedProtocolId,
  signingInput,
  handshakeInput,
  SignatureVerifier,
} from './signed.js'
export type { VerifierOptions } from './signed.js'
export type { WireValue, PayloadLimits } from './payload.js'
export {
  SUPPORTED_COMPRESSIONS,
  DEFAULT_COMPRESSIONS,
  DEFAULT_MIN_COMPRESS_BYTES,
  compress,
  decompress,
  negotiateCompression,
  sanitizeCompressionList,
  isSupportedCompression,
} from './compression.js'
export { FrameCodec } from './codec.js'
export type { FrameCodecOptions, FrameCodecStats } from './codec.js'
export { Identity, verifySignature, webCryptoHasEd25519, isUsablePublicKey } from './identity.js'
export type { CryptoBackend, IdentityKeyPair, IdentityOptions } from './identity.js'
