/**
 * The p2p.today 0.7 flag table, shared by every network type. Main flags and sub flags share
 * one namespace on purpose (see docs/protocol.md). Values 0x00–0x2F are reserved for the
 * protocol; applications use other values.
 */
export const FLAGS = {
  broadcast: 0x00,
  renegotiate: 0x01,
  compression: 0x01,
  whisper: 0x02,
  ping: 0x03,
  pong: 0x04,
  handshake: 0x05,
  notify: 0x06,
  peers: 0x07,
  request: 0x08,
  resend: 0x09,
  response: 0x0a,
  store: 0x0b,
  retrieve: 0x0c,
  retrieved: 0x0d,
  forward: 0x0e,
  new_paths: 0x0f,
  revoke_paths: 0x10,
  delta: 0x11,
} as const
export type FlagName = keyof typeof FLAGS
export type Flag = (typeof FLAGS)[FlagName]

/** Highest flag value reserved for the protocol; application flags are above it. */
export const RESERVED_FLAG_MAX = 0x2f

/**
 * Compression method flags: 0.7's (only zlib and gzip are implemented in browsers), and ours,
 * `deflateStream` (deflate with context takeover, stream.ts), which 0.7 nodes do not list.
 */
export const COMPRESSION = {
  bz2: 0x10,
  gzip: 0x11,
  lzma: 0x12,
  zlib: 0x13,
  deflateStream: 0x14,
  snappy: 0x20,
} as const
export type CompressionName = keyof typeof COMPRESSION
export type CompressionMethod = (typeof COMPRESSION)[CompressionName]
