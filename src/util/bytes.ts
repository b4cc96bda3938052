import * as noble from '@noble/hashes/utils.js'

/**
 * Small byte helpers shared by every layer, no I/O. Where @noble/hashes (a dependency anyway)
 * has the function, it is noble's, typed on plain `Uint8Array`.
 */

/** A new array of `parts` one after the other. */
export const concatBytes: (...parts: Uint8Array[]) => Uint8Array = noble.concatBytes

/** Output chunks (an inflater's, a deflater's) as one array: the chunk itself when there is one. */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : concatBytes(...chunks)
}
/** Lowercase hex. */
export const toHex: (b: Uint8Array) => string = noble.bytesToHex
/** Hex (either case) to bytes: a RangeError for odd lengths and non-hex characters. */
export const fromHex: (hex: string) => Uint8Array = noble.hexToBytes

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * UTF-8 encode. Not noble's `utf8ToBytes`: that one makes an encoder and copies its result on
 * every call (~4x slower), and this runs on every frame encoded.
 */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s)
}

/** Strict UTF-8 decode: throws a TypeError on invalid sequences. */
export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b)
}

/** The big-endian unsigned integer `b` spells (0n for no bytes). */
export function bytesToBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + noble.bytesToHex(b))
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * A compact string key for a short byte string (a 32-byte message id): one char per byte. Built
 * in one call, where `toHex` builds 2 chars per byte by concatenation; for Map/Set keys only.
 */
export function binaryKey(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[])
}

/** The same bytes typed for WebCrypto, which refuses views over a SharedArrayBuffer. */
export function asBufferSource(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b)
}
