import { sha1 } from '@noble/hashes/legacy.js'
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js'
import { bytesToBigInt, utf8 } from '../util/bytes.js'
import { b58encode } from './base58.js'

/** The protocol version string that is part of every protocol (subnet) id. */
export const PROTOCOL_VERSION = '0.7'

/** Size of the Chord ring and of node ids: 2^384. */
export const RING = 1n << 384n

/**
 * Protocol (subnet) id: base58(int(SHA-256(utf8(subnet + transport + "0.7")))).
 * Nodes whose protocol ids differ refuse each other at the handshake.
 */
export function protocolId(subnet: string, transport: string): string {
  if (typeof subnet !== 'string' || typeof transport !== 'string') {
    throw new TypeError('protocolId(subnet, transport) takes two strings')
  }
  return b58encode(bytesToBigInt(sha256(utf8(subnet + transport + PROTOCOL_VERSION))))
}

/** base58(int(SHA-384(input))): a 384-bit node id that is also its Chord ring position. */
export function nodeIdFromBytes(input: Uint8Array | string): string {
  return b58encode(bytesToBigInt(sha384(typeof input === 'string' ? utf8(input) : input)))
}

/**
 * Node id of an Ed25519 raw public key (32 bytes): anyone holding the key can check the id.
 * In 0.7 the preimage was address + protocol id + a random salt and nothing verified it.
 */
export function nodeIdFromPublicKey(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new TypeError('an Ed25519 raw public key is 32 bytes')
  }
  return nodeIdFromBytes(publicKey)
}

/**
 * The five Chord positions of a key, one per hash table, in 0.7's order:
 * sha1(k)<<224, sha224(k)<<160, sha256(k)<<128, sha384(k), sha512(k).
 * The sha512 value is returned unreduced (512 bits) as 0.7 names it on the wire in base58;
 * use `ringPosition` to place it on the ring.
 */
export function chordPositions(key: Uint8Array | string): bigint[] {
  const k = typeof key === 'string' ? utf8(key) : key
  return [
    bytesToBigInt(sha1(k)) << 224n,
    bytesToBigInt(sha224(k)) << 160n,
    bytesToBigInt(sha256(k)) << 128n,
    bytesToBigInt(sha384(k)),
    bytesToBigInt(sha512(k)),
  ]
}

/** A value's place on the ring: its residue mod 2^384. */
export function ringPosition(n: bigint): bigint {
  return ((n % RING) + RING) % RING
}

/**
 * Clockwise distance from a to b on a ring of size `limit` (default 2^384): (b − a) mod limit.
 */
export function distance(a: bigint, b: bigint, limit: bigint = RING): bigint {
  if (limit <= 0n) throw new RangeError('ring size must be positive')
  return (((b - a) % limit) + limit) % limit
}
