import { BoundedMap } from '../util/bounded-map.js'
import { asBufferSource, binaryKey, concatBytes, utf8 } from '../util/bytes.js'
import type { MaybePromise } from '../util/serial.js'
import { nodeIdFromPublicKey, protocolId } from './ids.js'
import { isUsablePublicKey, verifyCofactorless, webCryptoHasEd25519, type CryptoBackend } from './identity.js'

/**
 * The signed variant's cryptography (docs/protocol.md, "Signed frames" and "Signed handshake").
 * What is signed is always a short, domain-separated string naming the subnet, never the body:
 * a 1 MiB message costs one SHA-256 (its id) and one signature of ~100 bytes.
 */

/** Appended to the transport name in the protocol id of the signed mode: its subnets are not 0.7's. */
export const SIGNED_TRANSPORT_SUFFIX = '+ed25519'

/** The protocol id of `subnet` over `transport` in the signed mode. */
export function signedProtocolId(subnet: string, transport: string): string {
  return protocolId(subnet, transport + SIGNED_TRANSPORT_SUFFIX)
}

const FRAME_CONTEXT = utf8('p2p-today/1 frame\0')
const HANDSHAKE_CONTEXT = utf8('p2p-today/1 handshake\0')
const ZERO = Uint8Array.of(0)

/** What a signed message's signature covers: context, protocol id, message id. */
export function signingInput(protocolId: string, id: Uint8Array): Uint8Array {
  return concatBytes(FRAME_CONTEXT, utf8(protocolId), ZERO, id)
}

/** Length of a handshake nonce. */
export const NONCE_BYTES = 32

/**
 * What each end of a link signs to prove it holds the key of the id it claims, on this link:
 * context, protocol id, its own id, the id of the peer it answers, its nonce, the peer's nonce.
 * Both nonces are fresh per link, so a handshake signature is worth nothing on another link.
 */
export function handshakeInput(protocolId: string, signerId: string, peerId: string, signerNonce: Uint8Array, peerNonce: Uint8Array): Uint8Array {
  return concatBytes(HANDSHAKE_CONTEXT, utf8(protocolId), ZERO, utf8(signerId), ZERO, utf8(peerId), ZERO, signerNonce, peerNonce)
}

type KeyEntry = { id: string; usable: boolean; key?: Promise<CryptoKey> }

export interface VerifierOptions {
  /** 'auto' (default): WebCrypto when it has Ed25519, else @noble/ed25519. 'noble' answers synchronously. */
  backend?: CryptoBackend | 'auto'
  /** Public keys remembered (their node id, and WebCrypto's imported key). Default 1 024. */
  maxKeys?: number
}


export class SignatureVerifier {
  /** Least recently used first. */
  readonly #keys: BoundedMap<string, KeyEntry>
  #backend: CryptoBackend | undefined
  readonly #ready: Promise<CryptoBackend> | undefined

  constructor(options: VerifierOptions = {}) {
    this.#keys = new BoundedMap(options.maxKeys ?? 1024)
    const requested = options.backend ?? 'auto'
    if (requested === 'auto') {
      this.#ready = webCryptoHasEd25519().then((yes) => (this.#backend = yes ? 'webcrypto' : 'noble'))
    } else {
      this.#backend = requested
    }
  }

  /** Resolves once the backend is chosen (verify() waits for it too). */
  async ready(): Promise<CryptoBackend> {
    return this.#backend ?? (await this.#ready!)
  }

  /** Whether `publicKey` is the key of node `id` (id = base58(int(SHA-384(key)))) and may sign at all (isUsablePublicKey). */
  idMatches(publicKey: Uint8Array, id: string): boolean {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false
    const entry = this.#entry(publicKey)
    return entry.usable && entry.id === id
  }

  /** Whether `signature` is `publicKey`'s Ed25519 signature of `data`: a boolean now (noble) or later (WebCrypto). */
  verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): MaybePromise<boolean> {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false
    if (this.#backend === undefined) return this.ready().then(() => this.verify(publicKey, data, signature))
    // Both backends answer alike: unusable keys are refused first, and noble checks WebCrypto's
    // (cofactorless) equation.
    const entry = this.#entry(publicKey)
    if (!entry.usable) return false
    if (this.#backend === 'noble') return verifyCofactorless(publicKey, data, signature)
    entry.key ??= crypto.subtle.importKey('raw', asBufferSource(publicKey.slice()), { name: 'Ed25519' }, false, ['verify'])
    return entry.key.then(
      (key) => crypto.subtle.verify({ name: 'Ed25519' }, key, asBufferSource(signature), asBufferSource(data)),
      () => false,
    ).catch(() => false)
  }

  #entry(publicKey: Uint8Array): KeyEntry {
    const k = binaryKey(publicKey)
    let entry = this.#keys.touch(k)
    if (entry === undefined) {
      entry = { id: nodeIdFromPublicKey(publicKey), usable: isUsablePublicKey(publicKey) }
      this.#keys.set(k, entry)
    }
    return entry
  }
}
