import { WireError } from '../errors.js'

/**
 * base58 of an *integer* with the Bitcoin alphabet, as p2p.today 0.7 defines it:
 * 0 → "1", 57 → "z", 58 → "21". Unlike byte-oriented base58 (bs58, @scure/base) there is no
 * leading-zero-byte preservation, which is why this is not delegated to one of those libraries.
 */
export const B58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

const DIGIT: Record<string, bigint> = Object.create(null) as Record<string, bigint>
for (let i = 0; i < B58_ALPHABET.length; i++) DIGIT[B58_ALPHABET.charAt(i)] = BigInt(i)

/** Longest string b58decode accepts: enough for a 1024-bit integer, far above any id. */
export const MAX_B58_LENGTH = 180

export function b58encode(n: bigint): string {
  if (typeof n !== 'bigint' || n < 0n) throw new WireError('INVALID_BASE58', 'b58encode takes a non-negative bigint')
  if (n === 0n) return B58_ALPHABET.charAt(0)
  let out = ''
  while (n > 0n) {
    out = B58_ALPHABET.charAt(Number(n % 58n)) + out
    n /= 58n
  }
  return out
}

export function b58decode(s: string): bigint {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_B58_LENGTH) {
    throw new WireError('INVALID_BASE58', `base58 string must be 1..${MAX_B58_LENGTH} characters`)
  }
  let n = 0n
  for (const ch of s) {
    const d = DIGIT[ch]
    if (d === undefined) throw new WireError('INVALID_BASE58', `invalid base58 character ${JSON.stringify(ch)}`)
    n = n * 58n + d
  }
  return n
}

/** B58_ALPHABET as a character class. */
const B58_STRING = /^[1-9A-HJ-NP-Za-km-z]+$/

/** True when `s` is a non-empty string of base58 characters no longer than `maxLength`. */
export function isB58(s: unknown, maxLength = MAX_B58_LENGTH): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= maxLength && B58_STRING.test(s)
}

/**
 * Longest node id or protocol (subnet) id. Both are base58 of a hash read as an integer: a node
 * id of SHA-384 (below 2^384, so at most 66 digits: 58^65 < 2^384 <= 58^66), a protocol id of
 * SHA-256 (at most 44). 0.7's ids are SHA-384 too. Longer base58 strings do occur (a Chord key's
 * SHA-512 position, up to 88 digits), but never as an id: those are `b58decode`'s business.
 */
export const MAX_ID_LENGTH = 66

/**
 * The one id check: `value` has the shape of a node id or protocol id (base58, 1..66
 * characters). Shape only: whether an id belongs to whoever uses it is a signature's business.
 */
export function isNodeId(value: unknown): value is string {
  return isB58(value, MAX_ID_LENGTH)
}
