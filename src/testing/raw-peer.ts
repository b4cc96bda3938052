import type { Link } from '../transport/types.js'
import type { SimNetwork } from './sim-network.js'
import { simIdentity } from './sim-mesh.js'
import { FrameCodec } from '../wire/codec.js'
import { decodeFrame, encodeBody, encodeFrame, frameBody, ID_BYTES, type DecodedFrame, type FrameVariant } from '../wire/frame.js'
import type { Identity } from '../wire/identity.js'
import { handshakeInput, NONCE_BYTES, signingInput } from '../wire/signed.js'
import { decodeMeshMessage, meshFrame, type MeshMessage } from '../mesh/messages.js'

/**
 * A peer that speaks frames by hand over any Link (test-only): it can do everything an honest
 * node does, step by step, and everything a hostile one might — claim another id, sign with the
 * wrong key, replay, send garbage. Works on simulated, memory and WebRTC links alike.
 */
export interface RawPeerOptions {
  protocolId: string
  variant: FrameVariant
  /** The id this peer claims (default: its identity's). */
  claimId?: string
  /** Nonce bytes (default crypto.getRandomValues; simulations pass seeded ones). */
  randomBytes?: (n: number) => Uint8Array
  /** Answer pings with pongs (default true). */
  answerPings?: boolean
  /** Signed mode: answer the peer's handshake with our proof of key (default 'sign'), or not ('none': the test sends one with sendAuth). */
  proof?: 'sign' | 'none'
}

export type SignWith = 'none' | 'self' | Identity

export class RawPeer {
  readonly link: Link
  readonly identity: Identity
  readonly id: string
  readonly codec: FrameCodec
  /** Everything received and decoded, in order (frames that failed to decode are skipped). */
  readonly received: { frame: DecodedFrame; message: MeshMessage | undefined }[] = []
  /** The link's close, if it closed. */
  closed: { reason: unknown } | undefined
  /** True once our handshake (and, signed, our auth) went out after the peer's handshake. */
  authenticated = false
  /** The proofs of key (auth signatures) this peer sent. */
  readonly sentAuth: Uint8Array[] = []
  /** The peer's handshake nonce, once it arrived. */
  peerNonce: Uint8Array | undefined
  readonly #options: RawPeerOptions
  readonly #nonce: Uint8Array

  constructor(link: Link, identity: Identity, options: RawPeerOptions) {
    this.link = link
    this.identity = identity
    this.id = options.claimId ?? identity.id
    this.#options = options
    this.codec = new FrameCodec({ variant: options.variant })
    this.#nonce = (options.randomBytes ?? ((n) => crypto.getRandomValues(new Uint8Array(n))))(NONCE_BYTES)
    link.on('message', (bytes) => this.#onBytes(bytes))
    link.on('close', (reason) => (this.closed = { reason }))
  }

  /** Sends our handshake; the auth (signed mode) follows by itself once the peer's handshake arrives. */
  handshake(): Promise<void> {
    const hello: MeshMessage = { kind: 'handshake', id: this.id, protocolId: this.#options.protocolId, compressions: [] }
    if (this.#options.variant === 'signed') Object.assign(hello, { publicKey: this.identity.publicKey, nonce: this.#nonce })
    return this.link.send(encodeFrame(meshFrame(hello, this.id, 1))) // 0.7's layout, as every handshake
  }

  /**
   * A frame of `message` from `sender` (default: the id we claim) at `time` (default: now),
   * link-authenticated, or signed by us or by another identity ('self' / an Identity).
   */
  async frame(message: MeshMessage, options: { sender?: string; time?: number; sign?: SignWith } = {}): Promise<Uint8Array> {
    const msg = meshFrame(message, options.sender ?? this.id, options.time ?? Math.floor(Date.now() / 1000))
    const variant = this.#options.variant
    const unsigned = encodeBody(msg, { variant })
    const sign = options.sign ?? 'none'
    if (sign === 'none' || variant !== 'signed') return frameBody(unsigned)
    const signer = sign === 'self' ? this.identity : sign
    const signature = await signer.sign(signingInput(this.#options.protocolId, unsigned.subarray(0, ID_BYTES)))
    return frameBody(encodeBody(msg, { variant, auth: { publicKey: signer.publicKey, signature } }))
  }

  send(bytes: Uint8Array): Promise<void> {
    return this.link.send(bytes)
  }

  /** Sends an auth message with this signature (a proof of key, possibly not a valid one). */
  sendAuth(signature: Uint8Array): Promise<void> {
    this.sentAuth.push(signature)
    return this.link.send(this.codec.encode(meshFrame({ kind: 'auth', signature }, this.id, 1)))
  }

  /** The user payloads of what was received with main flag `type` (e.g. FLAGS.broadcast). */
  payloads(type: number): unknown[][] {
    return this.received.filter((r) => r.frame.type === type).map((r) => r.frame.payload.slice(1))
  }

  #onBytes(bytes: Uint8Array): void {
    let frame: DecodedFrame
    let message: MeshMessage | undefined
    try {
      frame = this.codec.decode(bytes)
    } catch {
      try {
        frame = decodeFrame(bytes) // a handshake (0.7's layout)
      } catch {
        return
      }
    }
    try {
      message = decodeMeshMessage(frame)
    } catch {
      message = undefined
    }
    this.received.push({ frame, message })
    if (message?.kind === 'handshake') void this.#answerHandshake(message)
    if (message?.kind === 'ping' && this.#options.answerPings !== false) {
      void this.link.send(this.codec.encode(meshFrame({ kind: 'pong', nonce: message.nonce }, this.id, 1))).catch(() => {})
    }
  }

  async #answerHandshake(hello: Extract<MeshMessage, { kind: 'handshake' }>): Promise<void> {
    this.peerNonce = hello.nonce
    if (this.#options.variant === 'signed' && hello.nonce !== undefined && this.#options.proof !== 'none') {
      const signature = await this.identity.sign(handshakeInput(this.#options.protocolId, this.id, hello.id, this.#nonce, hello.nonce))
      await this.sendAuth(signature).catch(() => {})
    }
    this.authenticated = true
  }
}


export interface SimRawPeerOptions extends Partial<Omit<RawPeerOptions, 'protocolId'>> {
  /** Its own identity (default: a fresh seeded one). */
  identity?: Identity
  /** The transport id to dial from (default: the claimed id): the id the link shows. */
  transportId?: string
}

/** A RawPeer on the simulated network, linked to `targetId` (dialled; the handshake is the test's to send). */
export async function simRawPeer(sim: SimNetwork, targetId: string, protocolId: string, options: SimRawPeerOptions = {}): Promise<RawPeer> {
  const identity = options.identity ?? (await simIdentity(sim))
  const transport = sim.transport(options.transportId ?? options.claimId ?? identity.id)
  let dialled: Link | undefined
  let failed: unknown
  void transport.dial(targetId).then((l) => (dialled = l), (err: unknown) => (failed = err))
  if (!(await sim.runUntil(() => dialled !== undefined || failed !== undefined))) throw new Error('simRawPeer: the dial did not finish')
  if (dialled === undefined) throw failed
  return new RawPeer(dialled, identity, {
    protocolId,
    variant: options.variant ?? 'signed',
    randomBytes: options.randomBytes ?? ((n) => sim.random.bytes(n)),
    answerPings: options.answerPings ?? false,
    proof: options.proof ?? 'sign',
    ...(options.claimId !== undefined ? { claimId: options.claimId } : {}),
  })
}
