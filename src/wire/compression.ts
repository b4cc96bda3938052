import { Inflate, deflate, gzip } from 'pako'
import { WireError } from '../errors.js'
import { joinChunks } from '../util/bytes.js'
import { COMPRESSION } from './flags.js'

/** The per-frame methods this library implements (`compress`/`decompress`), in its order of preference. */
export const SUPPORTED_COMPRESSIONS: readonly number[] = [COMPRESSION.zlib, COMPRESSION.gzip]

/**
 * A link's default preference list: the deflate stream where the peer has it (ours, stream.ts),
 * else 0.7's per-frame zlib, then gzip.
 */
export const DEFAULT_COMPRESSIONS: readonly number[] = [COMPRESSION.deflateStream, ...SUPPORTED_COMPRESSIONS]

/** Whether `method` compresses one frame alone (every supported one but the stream). */
export const isPerFrame = (method: number): boolean => method !== COMPRESSION.deflateStream

/**
 * Bodies shorter than this are sent raw even when a method is negotiated: below it deflate
 * rarely saves a byte and costs more CPU than the frame's hashing (see docs/BENCHMARKS.md).
 */
export const DEFAULT_MIN_COMPRESS_BYTES = 512

export function isSupportedCompression(method: number): boolean {
  return DEFAULT_COMPRESSIONS.includes(method)
}

/** Keeps the supported methods of a peer's (untrusted) list, in its order, without repeats. */
export function sanitizeCompressionList(list: unknown): number[] {
  if (!Array.isArray(list)) return []
  const out: number[] = []
  for (const m of list.slice(0, 16)) if (typeof m === 'number' && isSupportedCompression(m) && !out.includes(m)) out.push(m)
  return out
}

/**
 * The method a sender uses on a link: the first of *its own* list that the peer also listed,
 * or undefined for none (send raw).
 */
export function negotiateCompression(local: readonly number[], remote: readonly number[]): number | undefined {
  return local.find((m) => isSupportedCompression(m) && remote.includes(m))
}

/**
 * Bodies above this size are deflated at level 1 instead of 0.7's level 6: measured 4x faster
 * on 64 KiB of text for ~25% more output (docs/BENCHMARKS.md). The level is not on the wire.
 */
export const FAST_COMPRESS_ABOVE_BYTES = 16 * 1024

export function compress(method: number, data: Uint8Array): Uint8Array {
  const level = data.length > FAST_COMPRESS_ABOVE_BYTES ? 1 : 6
  switch (method) {
    case COMPRESSION.zlib:
      return deflate(data, { level })
    case COMPRESSION.gzip:
      return gzip(data, { level })
    default:
      throw new WireError('UNKNOWN_COMPRESSION', `compression method 0x${method.toString(16)} is not supported`)
  }
}

/**
 * Inflates `data` with `method`. Returns undefined when the bytes are not a valid stream of
 * that method (the caller then tries the next method, then raw). Throws FRAME_TOO_LARGE as soon
 * as the output passes `maxBytes`, so a small compressed frame cannot balloon in memory.
 */
/** zlib: CM = 8, CINFO ≤ 7, header check mod 31 (RFC 1950). gzip: 1f 8b, CM = 8 (RFC 1952). */
function hasHeader(method: number, data: Uint8Array): boolean {
  const [b0 = -1, b1 = -1, b2 = -1] = data
  if (method === COMPRESSION.gzip) return b0 === 0x1f && b1 === 0x8b && b2 === 8
  return (b0 & 0x0f) === 8 && b0 >> 4 <= 7 && ((b0 << 8) | b1) % 31 === 0
}

export function decompress(method: number, data: Uint8Array, maxBytes: number): Uint8Array | undefined {
  let windowBits: number
  if (method === COMPRESSION.zlib) windowBits = 15
  else if (method === COMPRESSION.gzip) windowBits = 15 + 16
  else throw new WireError('UNKNOWN_COMPRESSION', `compression method 0x${method.toString(16)} is not supported`)
  // Reject on the header before pako allocates its window: raw frames on a link with a
  // negotiated method pay almost nothing for the try (measured 5x faster for 100-byte frames).
  if (!hasHeader(method, data)) return undefined

  const inflator = new Inflate({ windowBits, chunkSize: Math.min(65_536, Math.max(1024, data.length * 4)) })
  const chunks: Uint8Array[] = []
  let total = 0
  inflator.onData = (chunk) => {
    total += chunk.length
    if (total > maxBytes) {
      throw new WireError('FRAME_TOO_LARGE', `decompressed frame exceeds ${maxBytes} bytes`)
    }
    chunks.push(chunk)
  }
  inflator.onEnd = () => {}
  inflator.push(data, true)
  if (inflator.err !== 0 || !inflator.ended) return undefined
  return joinChunks(chunks)
}
