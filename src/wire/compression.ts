import { Inflate, deflate, gzip } from 'pako'
import { WireError } from '../errors.js'
import { COMPRESSION } from './flags.js'

/** The methods this library implements, in its default order of preference. */
export const SUPPORTED_COMPRESSIONS: readonly number[] = [COMPRESSION.zlib, COMPRESSION.gzip]

/**
 * Bodies shorter than this are sent raw even when a method is negotiated: below it deflate
 * rarely saves a byte and costs more CPU than the frame's hashing (see docs/BENCHMARKS.md).
 */
export const DEFAULT_MIN_COMPRESS_BYTES = 512

export function isSupportedCompression(method: number): boolean {
  return SUPPORTED_COMPRESSIONS.includes(method)
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

export function compress(method: number, data: Uint8Array): Uint8Array {
  switch (method) {
    case COMPRESSION.zlib:
      return deflate(data)
    case COMPRESSION.gzip:
      return gzip(data)
    default:
      throw new WireError('UNKNOWN_COMPRESSION', `compression method 0x${method.toString(16)} is not supported`)
  }
}

/**
 * Inflates `data` with `method`. Returns undefined when the bytes are not a valid stream of
 * that method (the caller then tries the next method, then raw). Throws FRAME_TOO_LARGE as soon
 * as the output passes `maxBytes`, so a small compressed frame cannot balloon in memory.
 */
export function decompress(method: number, data: Uint8Array, maxBytes: number): Uint8Array | undefined {
  let windowBits: number
  if (method === COMPRESSION.zlib) windowBits = 15
  else if (method === COMPRESSION.gzip) windowBits = 15 + 16
  else throw new WireError('UNKNOWN_COMPRESSION', `compression method 0x${method.toString(16)} is not supported`)

  const inflator = new Inflate({ windowBits })
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
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(total)
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.length
  }
  return out
}
