import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { IdentityError } from '../errors.js'
import { asBufferSource, bytesToBigInt, concatBytes, equalBytes } from '../util/bytes.js'
import { nodeIdFromPublicKey } from './ids.js'

// noble's synchronous API needs a SHA-512; this also makes it work where crypto.subtle is
// missing (pages served over plain http on a LAN address are not a secure context).
ed.hashes.sha512 = sha512

/** Where signatures are computed: the platform's WebCrypto Ed25519, or @noble/ed25519 in JS. */
export type CryptoBackend = 'webcrypto' | 'noble'

/** A key pair in portable form: 32-byte raw public key and 32-byte RFC 8032 secret seed. */
export interface IdentityKeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export interface IdentityOptions {
  /** 'auto' (default) uses WebCrypto when it supports Ed25519 and falls back to noble. */
  backend?: CryptoBackend | 'auto'
  /** WebCrypto only: whether the secret key may be exported (default true). */
  extractable?: boolean
}

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): a fixed 16-byte prefix, then the seed.
const PKCS8_PREFIX = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const ED25519 = { name: 'Ed25519' } as const
const SELF_TEST = new TextEncoder().encode('p2p-today identity self-test')

let webCryptoSupport: Promise<boolean> | undefined

/** Whether this platform's WebCrypto can generate Ed25519 keys (cached after the first call). */
export function webCryptoHasEd25519(): Promise<boolean> {
  webCryptoSupport ??= (async () => {
    const subtle = globalThis.crypto?.subtle
    if (subtle === undefined) return false
    try {
      await subtle.generateKey(ED25519, false, ['sign', 'verify'])
      return true
    } catch {
      return false
    }
  })()
  return webCryptoSupport
}

async function pickBackend(requested: CryptoBackend | 'auto' | undefined): Promise<CryptoBackend> {
  const hasWebCrypto = await webCryptoHasEd25519()
  if (requested === 'webcrypto' && !hasWebCrypto) {
    throw new IdentityError('CRYPTO_UNAVAILABLE', 'WebCrypto Ed25519 is not available on this platform')
  }
  if (requested === 'webcrypto' || requested === 'noble') return requested
  return hasWebCrypto ? 'webcrypto' : 'noble'
}

type SecretHandle = { kind: 'webcrypto'; key: CryptoKey } | { kind: 'noble'; seed: Uint8Array }

/**
 * A node's identity: an Ed25519 key pair and the node id derived from its public key,
 * id = base58(int(SHA-384(raw public key))). Anyone can check an id against a key.
 */
export class Identity {
  readonly id: string
  readonly publicKey: Uint8Array
  readonly backend: CryptoBackend
  readonly #secret: SecretHandle

  private constructor(publicKey: Uint8Array, secret: SecretHandle) {
    this.publicKey = publicKey
    this.id = nodeIdFromPublicKey(publicKey)
    this.backend = secret.kind
    this.#secret = secret
  }

  /** A fresh random identity. */
  static async generate(options: IdentityOptions = {}): Promise<Identity> {
    const backend = await pickBackend(options.backend)
    if (backend === 'noble') {
      const { secretKey, publicKey } = ed.keygen()
      return new Identity(publicKey, { kind: 'noble', seed: secretKey })
    }
    const pair = (await crypto.subtle.generateKey(ED25519, options.extractable ?? true, ['sign', 'verify'])) as CryptoKeyPair
    const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
    return new Identity(publicKey, { kind: 'webcrypto', key: pair.privateKey })
  }

  /** Restores an identity from `exportKeyPair()` output. Throws INVALID_KEY if the halves do not match. */
  static async fromKeyPair(pair: IdentityKeyPair, options: IdentityOptions = {}): Promise<Identity> {
    const { publicKey, secretKey } = pair ?? {}
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32 || !(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
      throw new IdentityError('INVALID_KEY', 'a key pair is a 32-byte publicKey and a 32-byte secretKey')
    }
    if (!equalBytes(ed.getPublicKey(secretKey), publicKey)) {
      throw new IdentityError('INVALID_KEY', 'publicKey does not belong to secretKey')
    }
    const backend = await pickBackend(options.backend)
    if (backend === 'noble') return new Identity(publicKey.slice(), { kind: 'noble', seed: secretKey.slice() })
    const key = await crypto.subtle.importKey('pkcs8', asBufferSource(concatBytes(PKCS8_PREFIX, secretKey)), ED25519, options.extractable ?? true, ['sign'])
    const identity = new Identity(publicKey.slice(), { kind: 'webcrypto', key })
    if (!(await verifySignature(publicKey, SELF_TEST, await identity.sign(SELF_TEST)))) {
      throw new IdentityError('INVALID_KEY', 'the platform rejected this key pair')
    }
    return identity
  }

  /**
   * An identity from a WebCrypto Ed25519 private key, e.g. a non-extractable one kept in
   * IndexedDB, and its 32-byte raw public key. Signs once and verifies: throws INVALID_KEY if
   * the key is not an Ed25519 private signing key for `publicKey`, CRYPTO_UNAVAILABLE if this
   * platform's WebCrypto has no Ed25519.
   */
  static async fromCryptoKey(publicKey: Uint8Array, privateKey: CryptoKey): Promise<Identity> {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
      throw new IdentityError('INVALID_KEY', 'a public key is 32 bytes')
    }
    const key: unknown = privateKey
    if (typeof key !== 'object' || key === null || (key as Partial<CryptoKey>).type !== 'private') {
      throw new IdentityError('INVALID_KEY', 'privateKey must be a private CryptoKey')
    }
    if (!(await webCryptoHasEd25519())) {
      throw new IdentityError('CRYPTO_UNAVAILABLE', 'WebCrypto Ed25519 is not available on this platform')
    }
    const identity = new Identity(publicKey.slice(), { kind: 'webcrypto', key: privateKey })
    let signature: Uint8Array
    try {
      signature = await identity.sign(SELF_TEST)
    } catch (err: unknown) {
      throw new IdentityError('INVALID_KEY', 'privateKey cannot make Ed25519 signatures', { cause: err })
    }
    if (!(await verifySignature(publicKey, SELF_TEST, signature))) {
      throw new IdentityError('INVALID_KEY', 'publicKey does not belong to privateKey')
    }
    return identity
  }

  /** A 64-byte Ed25519 signature of `data`. */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    if (this.#secret.kind === 'noble') return ed.sign(data, this.#secret.seed)
    return new Uint8Array(await crypto.subtle.sign(ED25519, this.#secret.key, asBufferSource(data)))
  }

  /** The key pair in portable form, for persistence. Throws KEY_NOT_EXTRACTABLE for non-extractable WebCrypto keys. */
  async exportKeyPair(): Promise<IdentityKeyPair> {
    if (this.#secret.kind === 'noble') return { publicKey: this.publicKey.slice(), secretKey: this.#secret.seed.slice() }
    if (!this.#secret.key.extractable) {
      throw new IdentityError('KEY_NOT_EXTRACTABLE', 'this identity was created with extractable: false')
    }
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', this.#secret.key))
    return { publicKey: this.publicKey.slice(), secretKey: pkcs8.slice(pkcs8.length - 32) }
  }
}

/** The order of the Ed25519 base point. */
const L = ed.Point.CURVE().n

function littleEndian(b: Uint8Array): bigint {
  return bytesToBigInt(b.slice().reverse())
}

/**
 * Whether a public key may sign at all: a canonical encoding of a point that is not of small
 * order. A small-order key (e.g. the identity point) "verifies" chosen signatures for any message
 * under some implementations; nobody holds its secret, so no node id may rest on it.
 */
export function isUsablePublicKey(publicKey: Uint8Array): boolean {
  try {
    return !ed.Point.fromBytes(publicKey, false).isSmallOrder()
  } catch {
    return false
  }
}

/**
 * Ed25519 verification with the cofactorless equation [S]B = R + [k]A, strict encodings, S < L:
 * what WebCrypto (BoringSSL in Chromium, OpenSSL in Node) checks. (noble's own `verify` checks the
 * cofactored equation, which also accepts an R with a small-order component: nodes on the two
 * backends would then disagree about which messages are forged.)
 */
export function verifyCofactorless(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const rBytes = signature.subarray(0, 32)
  const s = littleEndian(signature.subarray(32, 64))
  if (s >= L) return false
  let A: ed.Point
  let R: ed.Point
  try {
    A = ed.Point.fromBytes(publicKey, false)
    R = ed.Point.fromBytes(rBytes, false)
  } catch {
    return false
  }
  const k = littleEndian(sha512(concatBytes(rBytes, publicKey, data))) % L
  return ed.Point.BASE.multiply(s, false).equals(R.add(A.multiply(k, false)))
}

/**
 * Checks signatures from many senders, remembering per public key its node id and (WebCrypto)
 * its imported key, in a bounded LRU. Never throws: a malformed key or signature is `false`.
 */

/**
 * Checks an Ed25519 signature. Returns false (never throws) for a bad signature, a malformed
 * key or a malformed signature: inputs here usually come from peers. Both backends give the same
 * answer: unusable (small-order, non-canonical) keys are refused, and noble checks WebCrypto's
 * cofactorless equation.
 */
export async function verifySignature(
  publicKey: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
  backend: CryptoBackend | 'auto' = 'auto',
): Promise<boolean> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false
  if (!isUsablePublicKey(publicKey)) return false
  try {
    if ((await pickBackend(backend)) === 'noble') return verifyCofactorless(publicKey, data, signature)
    const key = await crypto.subtle.importKey('raw', asBufferSource(publicKey), ED25519, false, ['verify'])
    return await crypto.subtle.verify(ED25519, key, asBufferSource(signature), asBufferSource(data))
  } catch {
    return false
  }
}
