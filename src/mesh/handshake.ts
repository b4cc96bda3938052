import { MeshError, type P2PError } from '../errors.js'
import type { MaybePromise } from '../util/serial.js'
import { andThen } from '../util/serial.js'
import type { Identity } from '../wire/identity.js'
import { handshakeInput, NONCE_BYTES, type SignatureVerifier } from '../wire/signed.js'
import type { MeshMessage } from './messages.js'

/** The signed mode's services for a link (absent: 0.7's unsigned mode). */
export interface PeerLinkSigning {
  identity: Identity
  verifier: SignatureVerifier
  /** A signed message whose timestamp is further than this from our clock is dropped (a replay window). */
  maxClockSkewMs: number
  /** Fresh random bytes for the handshake nonce. */
  randomBytes(n: number): Uint8Array
}

/** What a handshake needs from its link. */
export interface HandshakeHost {
  readonly localId: string
  readonly protocolId: string
  readonly signing: PeerLinkSigning | undefined
  /** The peer's id as the transport proved it (signaling id), if it knows one. */
  readonly linkRemoteId: string | undefined
  send(message: MeshMessage): void
  fail(err: P2PError): void
  /** Whether the link closed meanwhile (a signature answered after it). */
  closed(): boolean
  /** The peer's handshake was acceptable: it claims `id` (proven only once done) and accepts `compressions`. */
  identified(id: string, compressions: number[]): void
  /** The handshake is complete (signed mode: both proofs of key exchanged). */
  done(): void
}

/**
 * One link's handshake (docs/protocol.md, "Handshake"): both sides send 0.7's handshake; nodes of
 * another protocol id part with SUBNET_MISMATCH. In the signed mode the handshake also carries the
 * public key and a nonce, the id must be the key's hash, and each side then proves it holds the
 * key by signing the protocol id, both ids and both nonces (`auth`).
 */
export class Handshake {
  readonly #host: HandshakeHost
  #state: 'handshaking' | 'authenticating' | 'done' = 'handshaking'
  #nonce: Uint8Array | undefined
  #peer: { id: string; key: Uint8Array; nonce: Uint8Array } | undefined
  #ourAuthSent = false
  #theirAuthOk = false

  constructor(host: HandshakeHost) {
    this.#host = host
  }

  get state(): 'handshaking' | 'authenticating' | 'done' {
    return this.#state
  }

  /** Our handshake message (signed mode: with our key and a fresh nonce). */
  hello(compressions: number[]): MeshMessage {
    const h = this.#host
    const hello: MeshMessage = { kind: 'handshake', id: h.localId, protocolId: h.protocolId, compressions }
    if (h.signing === undefined) return hello
    this.#nonce = h.signing.randomBytes(NONCE_BYTES)
    return { ...hello, publicKey: h.signing.identity.publicKey, nonce: this.#nonce }
  }

  /** A message that arrived before the handshake was done. */
  receive(message: MeshMessage): MaybePromise<void> {
    return this.#state === 'handshaking' ? this.#onHandshake(message) : this.#onAuth(message)
  }

  #onHandshake(message: MeshMessage): MaybePromise<void> {
    const h = this.#host
    if (message.kind !== 'handshake') {
      return h.fail(new MeshError('HANDSHAKE_FAILED', `expected a handshake, got ${message.kind}`, { peerId: h.linkRemoteId }))
    }
    // Errors name the link's id (what the transport or signaling proved), never an id the failed
    // handshake merely claims: an application banning `peerId` must not ban an impersonated node.
    const expected = h.linkRemoteId
    const blame = expected ?? message.id
    if (message.protocolId !== h.protocolId) {
      return h.fail(new MeshError('SUBNET_MISMATCH', `peer ${message.id} speaks protocol ${message.protocolId}, we speak ${h.protocolId}`, { peerId: blame }))
    }
    if (message.id === h.localId || (expected !== undefined && expected !== message.id)) {
      return h.fail(new MeshError('HANDSHAKE_FAILED', `peer claims id ${message.id} on a link to ${expected ?? '?'}`, { peerId: expected }))
    }
    h.identified(message.id, message.compressions)
    const signing = h.signing
    if (signing === undefined) return this.#done()
    // Signed mode: the id must be the hash of the key the peer shows, and the peer must prove it
    // holds that key by signing both nonces of this link (its auth message, next).
    if (message.publicKey === undefined || message.nonce === undefined) {
      return h.fail(new MeshError('AUTH_FAILED', `peer ${message.id} sent no public key`, { peerId: expected }))
    }
    if (!signing.verifier.idMatches(message.publicKey, message.id)) {
      return h.fail(new MeshError('AUTH_FAILED', `peer claims id ${message.id} with a key that is not its`, { peerId: expected }))
    }
    this.#peer = { id: message.id, key: message.publicKey, nonce: message.nonce }
    this.#state = 'authenticating'
    const input = handshakeInput(h.protocolId, h.localId, message.id, this.#nonce!, message.nonce)
    // Our auth goes out before anything else we send on this link (done waits for it).
    return signing.identity.sign(input).then(
      (signature) => {
        if (h.closed()) return
        h.send({ kind: 'auth', signature })
        this.#ourAuthSent = true
        this.#maybeDone()
      },
      (err: unknown) => h.fail(new MeshError('AUTH_FAILED', 'could not sign the handshake', { cause: err, peerId: expected })),
    )
  }

  #onAuth(message: MeshMessage): MaybePromise<void> {
    const h = this.#host
    const peer = this.#peer!
    const blame = h.linkRemoteId // the claim is not proven yet
    if (message.kind !== 'auth') {
      return h.fail(new MeshError('AUTH_FAILED', `expected the handshake's proof of key, got ${message.kind}`, { peerId: blame }))
    }
    const input = handshakeInput(h.protocolId, peer.id, h.localId, peer.nonce, this.#nonce!)
    return andThen(h.signing!.verifier.verify(peer.key, input, message.signature), (ok) => {
      if (h.closed()) return
      if (!ok) return h.fail(new MeshError('AUTH_FAILED', `peer ${peer.id} failed to prove it holds its key`, { peerId: blame }))
      this.#theirAuthOk = true
      this.#maybeDone()
    })
  }

  #maybeDone(): void {
    if (this.#state === 'authenticating' && this.#ourAuthSent && this.#theirAuthOk) this.#done()
  }

  #done(): void {
    this.#state = 'done'
    this.#host.done()
  }
}
