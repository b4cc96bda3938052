/** Small byte helpers shared by every layer. No dependencies, no I/O. */

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function utf8(s: string): Uint8Array {
  return encoder.encode(s)
}

/** Strict UTF-8 decode: throws a TypeError on invalid sequences. */
export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b)
}

export function bytesToBigInt(b: Uint8Array): bigint {
  let n = 0n
  for (const byte of b) n = (n << 8n) | BigInt(byte)
  return n
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0
  for (const p of parts) total += p.length
  const out = new Uint8Array(total)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function toHex(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!]!
  return s
}

/**
 * A compact string key for a short byte string (a 32-byte message id): one char per byte. Built
 * in one call, where `toHex` builds 2 chars per byte by concatenation; for Map/Set keys only.
 */
export function binaryKey(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[])
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError('invalid hex string')
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

/** The same bytes typed for WebCrypto, which refuses views over a SharedArrayBuffer. */
export function asBufferSource(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b)
}
