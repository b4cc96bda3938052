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

/** True when `s` is a non-empty string of base58 characters no longer than `maxLength`. */
export function isB58(s: unknown, maxLength = MAX_B58_LENGTH): s is string {
  if (typeof s !== 'string' || s.length === 0 || s.length > maxLength) return false
  for (const ch of s) if (DIGIT[ch] === undefined) return false
  return true
}
