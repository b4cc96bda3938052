import { MeshError, WireError, type P2PError } from '../errors.js'
import type { Link } from '../transport/types.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { Emitter } from '../util/emitter.js'
import { isPromise, Serial, andThen, type MaybePromise } from '../util/serial.js'
import { FrameCodec, type FrameCodecOptions } from '../wire/codec.js'
import { bodyOf, ID_BYTES, LEN_BYTES, type DecodedFrame, type Digest } from '../wire/frame.js'
import type { Identity } from '../wire/identity.js'
import { handshakeInput, NONCE_BYTES, signingInput, type SignatureVerifier } from '../wire/signed.js'
import { decodeMeshMessage, isControl, meshFrame, needsSignature, type MeshMessage } from './messages.js'

/** The signed mode's services for a link (absent: 0.7's unsigned mode). */
export interface PeerLinkSigning {
  identity: Identity
  verifier: SignatureVerifier
  /** A signed message whose timestamp is further than this from our clock is dropped (a replay window). */
  maxClockSkewMs: number
  /** Fresh random bytes for the handshake nonce. */
  randomBytes(n: number): Uint8Array
}

export interface PeerLinkContext {
  localId: string
  protocolId: string
  codec: FrameCodecOptions
  clock: Clock
  /** A link whose peer has not completed the handshake by then is closed (HANDSHAKE_TIMEOUT). */
  handshakeTimeoutMs: number
  /** Malformed frames tolerated on one link before it is closed (BAD_FRAME). */
  maxBadFrames: number
  /** SHA-256 for frame ids: `webDigest` hashes large bodies with WebCrypto, asynchronously. */
  digest: Digest
  /**
   * Whether a frame's id (the 32 bytes after LEN, if the frame is raw) names a message this node
   * has already handled: such a copy is dropped before it is hashed or decoded. The callee counts
   * it. (A compressed frame starts with a zlib/gzip header there, never with a known id.)
   */
  seenBefore(id: Uint8Array): boolean
  /** Signed mode (docs/protocol.md): handshake proof of key, signed messages verified. */
  signing?: PeerLinkSigning
  /** Frames accepted per second from this peer (a token bucket of this size); the rest are dropped unread. */
  maxMessagesPerSecond: number
  /** A peer above the rate for this long in a row is dropped (RATE_LIMITED). */
  rateLimitGraceMs: number
}

export type PeerLinkEvents = {
  /** Handshake complete: the peer is `remoteId`, speaking our protocol id. */
  ready: []
  message: [message: MeshMessage, frame: DecodedFrame]
  /** A frame was dropped (the link stays up unless the policy closes it). */
  'bad-frame': [err: MeshError]
  /** A frame was dropped without blame: a signed message outside the replay window, or over the rate. */
  dropped: [reason: 'stale' | 'rate']
  /** Fired once, when the link is gone; `reason` says why if it was not a clean close. */
  closed: [reason: P2PError | undefined]
}

/**
 * One neighbour link as the mesh sees it: the handshake, the per-link frame codec (compression
 * negotiated in the handshake), the bad-frame policy, and when we last heard from the peer.
 */
export class PeerLink {
  readonly link: Link
  /** Whether this node dialled the link (used to break ties between duplicate links). */
  readonly outgoing: boolean
  readonly codec: FrameCodec
  readonly #ctx: PeerLinkContext
  readonly #events = new Emitter<PeerLinkEvents>()
  #remoteId: string | undefined
  #state: 'handshaking' | 'authenticating' | 'ready' | 'closed' = 'handshaking'
  #badFrames = 0
  /** Signed mode: our nonce, the peer's key and nonce, and what is left before 'ready'. */
  #nonce: Uint8Array | undefined
  #peerKey: Uint8Array | undefined
  #peerNonce: Uint8Array | undefined
  #authPending = { ourAuthSent: false, theirAuthOk: false }
  /** Token bucket for inbound frames; since when, and when last, frames were dropped for the rate. */
  #tokens: number
  #refilledAt: number
  #overSince: number | undefined
  #lastDrop: number | undefined
  #timer: TimerHandle | undefined
  /** Frames in arrival order while one of them waits on an async digest. */
  readonly #inbound = new Serial()
  /** Our messages in call order while one of them waits on an async digest. */
  readonly #outbound = new Serial()
  lastHeard: number
  lastSent: number
  /** Every frame that arrived on the link, dropped ones included (duplicates, rate, malformed). */
  readonly arrived = { frames: 0, bytes: 0 }

  constructor(link: Link, outgoing: boolean, ctx: PeerLinkContext) {
    this.link = link
    this.outgoing = outgoing
    this.#ctx = ctx
    this.codec = new FrameCodec(ctx.codec)
    this.lastHeard = this.lastSent = ctx.clock.now()
    this.#tokens = ctx.maxMessagesPerSecond
    this.#refilledAt = this.lastHeard
    link.on('message', (bytes) => this.#onBytes(bytes))
    link.on('close', (reason) => this.#closed(reason))
  }

  /** The handshake's node id (the link's transport-level id until then). */
  get remoteId(): string | undefined {
    return this.#remoteId ?? this.link.remoteId
  }

  get state(): 'handshaking' | 'authenticating' | 'ready' | 'closed' {
    return this.#state
  }

  on<K extends keyof PeerLinkEvents>(event: K, fn: (...args: PeerLinkEvents[K]) => void): () => void {
    return this.#events.on(event, fn)
  }

  /** Sends our handshake and starts the handshake timer. */
  start(): void {
    this.#timer = this.#ctx.clock.setTimeout(
      () => this.fail(new MeshError('HANDSHAKE_TIMEOUT', `no handshake within ${this.#ctx.handshakeTimeoutMs} ms`, { peerId: this.remoteId })),
      this.#ctx.handshakeTimeoutMs,
    )
    const hello: MeshMessage = { kind: 'handshake', id: this.#ctx.localId, protocolId: this.#ctx.protocolId, compressions: [...this.codec.local] }
    const signing = this.#ctx.signing
    if (signing !== undefined) {
      this.#nonce = signing.randomBytes(NONCE_BYTES)
      Object.assign(hello, { publicKey: signing.identity.publicKey, nonce: this.#nonce })
    }
    void this.send(hello)
  }

  /**
   * Encodes and sends one of our own messages; resolves when the link accepted it. Throws at once
   * (INVALID_PAYLOAD, FRAME_TOO_LARGE) for a message the wire cannot carry. Control messages jump
   * the queue; the others leave in call order.
   */
  send(message: MeshMessage): Promise<void> {
    const packed = this.codec.pack(meshFrame(message, this.#ctx.localId, Math.floor(this.#ctx.clock.now() / 1000)))
    const variant = message.kind === 'handshake' ? '0.7' : this.codec.variant
    if (isControl(message)) return this.#write(this.codec.frame(bodyOf(packed, undefined, variant) as Uint8Array), true)
    return this.#outbound.run(() => andThen(bodyOf(packed, this.#ctx.digest, variant), (body) => this.#write(this.codec.frame(body), false)))
  }

  /** Relays a message body (ID || P) unchanged; resolves when the link accepted it. `shared`: see FrameCodec.frame. */
  forward(body: Uint8Array, urgent = false, shared?: { raw?: Uint8Array }): Promise<void> {
    const frame = this.codec.frame(body, shared)
    return this.#write(frame, urgent)
  }

  #write(frame: Uint8Array, urgent: boolean): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve()
    this.lastSent = this.#ctx.clock.now()
    // Frames are never modified once made (a frame relayed to several links is one array), so
    // the link need not copy them. A failed send means the link is closing: 'close' reports it.
    return this.link.send(frame, { urgent, immutable: true }).catch(() => {})
  }

  /** Closes the link, reporting `err` as the reason. */
  fail(err: P2PError): void {
    if (this.#state === 'closed') return
    this.#closed(err)
    void this.link.close()
  }

  close(): Promise<void> {
    this.#closed(undefined)
    return this.link.close()
  }

  #onBytes(bytes: Uint8Array): void {
    if (this.#state === 'closed') return
    const now = this.#ctx.clock.now()
    this.lastHeard = now
    this.arrived.frames++
    this.arrived.bytes += bytes.length
    if (!this.#admit(now)) return
    if (this.#state === 'ready' && bytes.length > LEN_BYTES + ID_BYTES && this.#ctx.seenBefore(bytes.subarray(LEN_BYTES, LEN_BYTES + ID_BYTES))) return
    const signing = this.#ctx.signing
    if (signing !== undefined && this.#state === 'ready') return this.#onSignedBytes(signing, bytes)
    // Decoded in arrival order; synchronously unless a digest or a signature check answers later.
    // Decoding errors are the peer's (bad frames); errors of our own listeners propagate.
    this.#inbound.push(() => {
      let decoded: MaybePromise<DecodedFrame>
      try {
        // The handshake is in 0.7's layout on every link, so that a signed and an unsigned node
        // read each other's and part with SUBNET_MISMATCH instead of a timeout.
        decoded = this.codec.decodeWith(bytes, this.#ctx.digest, this.#state === 'handshaking' ? '0.7' : this.codec.variant)
      } catch (err: unknown) {
        return this.#onBadFrame(err)
      }
      if (!isPromise(decoded)) return this.#onFrame(decoded)
      return decoded.then(
        (frame) => this.#onFrame(frame),
        (err: unknown) => this.#onBadFrame(err),
      )
    })
  }

  /**
   * A frame on an established signed link: decoded and its signature check started at once, so
   * that the checks of consecutive frames run side by side (WebCrypto's threads), while what they
   * found is still acted on in arrival order.
   */
  #onSignedBytes(signing: PeerLinkSigning, bytes: Uint8Array): void {
    type Checked = { frame: DecodedFrame; signatureOk: MaybePromise<boolean> | undefined } | { error: unknown }
    const check = (frame: DecodedFrame): Checked => {
      const auth = frame.auth
      if (auth === undefined || !signing.verifier.idMatches(auth.publicKey, frame.sender)) return { frame, signatureOk: undefined }
      return { frame, signatureOk: signing.verifier.verify(auth.publicKey, signingInput(this.#ctx.protocolId, frame.id), auth.signature) }
    }
    let checked: MaybePromise<Checked>
    try {
      const decoded = this.codec.decodeWith(bytes, this.#ctx.digest)
      checked = isPromise(decoded) ? decoded.then(check, (error: unknown) => ({ error })) : check(decoded)
    } catch (error: unknown) {
      checked = { error }
    }
    this.#inbound.push(() =>
      andThen(checked, (c) => {
        if ('error' in c) return this.#onBadFrame(c.error)
        return this.#onFrame(c.frame, c.signatureOk)
      }),
    )
  }

  /**
   * The inbound rate limit (docs/LIMITS.md): a token bucket of `maxMessagesPerSecond`, refilled
   * continuously. Frames over it are dropped unread. A peer whose frames keep being dropped (no
   * second without a drop) for `rateLimitGraceMs` is dropped with RATE_LIMITED.
   */
  #admit(now: number): boolean {
    const rate = this.#ctx.maxMessagesPerSecond
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilledAt) * rate) / 1000)
    this.#refilledAt = now
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return true
    }
    if (this.#lastDrop === undefined || now - this.#lastDrop > 1000) this.#overSince = now
    this.#lastDrop = now
    if (now - this.#overSince! >= this.#ctx.rateLimitGraceMs) {
      this.fail(new MeshError('RATE_LIMITED', `${this.remoteId ?? 'a peer'} sent more than ${rate} messages/s for ${this.#ctx.rateLimitGraceMs} ms`, { peerId: this.remoteId }))
    } else {
      this.#events.emit('dropped', 'rate')
    }
    return false
  }

  /** `signatureOk`: the signature check already started for this frame (signed links), if any. */
  #onFrame(frame: DecodedFrame, signatureOk?: MaybePromise<boolean>): MaybePromise<void> {
    if (this.#state === 'closed') return
    let message: MeshMessage
    try {
      message = decodeMeshMessage(frame)
    } catch (err: unknown) {
      return this.#onBadFrame(err)
    }
    if (this.#state === 'handshaking') return this.#onHandshake(message)
    if (this.#state === 'authenticating') return this.#onAuth(message)
    const signing = this.#ctx.signing
    if (signing === undefined) return this.#events.emit('message', message, frame)
    return this.#authorize(signing, message, frame, signatureOk)
  }

  /**
   * Signed mode: what a message must prove before anyone sees it. A link-authenticated frame
   * (K = 0x00) must come from the peer itself, and may not be a message others relay; a signed one
   * must be signed by its sender's key, for this subnet, within the replay window.
   */
  #authorize(signing: PeerLinkSigning, message: MeshMessage, frame: DecodedFrame, started?: MaybePromise<boolean>): MaybePromise<void> {
    const auth = frame.auth
    if (auth === undefined) {
      if (needsSignature(message)) return this.#onBadFrame(new MeshError('FORGED', `unsigned ${message.kind} from ${this.remoteId ?? '?'}`, { peerId: this.remoteId }))
      if (frame.sender !== this.#remoteId) {
        return this.#onBadFrame(new MeshError('FORGED', `neighbour ${this.remoteId ?? '?'} sent a direct ${message.kind} as ${frame.sender}`, { peerId: this.remoteId }))
      }
      return this.#events.emit('message', message, frame)
    }
    if (Math.abs(frame.time * 1000 - this.#ctx.clock.now()) > signing.maxClockSkewMs) return this.#events.emit('dropped', 'stale')
    if (!signing.verifier.idMatches(auth.publicKey, frame.sender)) {
      return this.#onBadFrame(new MeshError('FORGED', `a ${message.kind} claims sender ${frame.sender} with another node's key`, { peerId: this.remoteId }))
    }
    const signatureOk = started ?? signing.verifier.verify(auth.publicKey, signingInput(this.#ctx.protocolId, frame.id), auth.signature)
    return andThen(signatureOk, (ok) => {
      if (this.#state === 'closed') return
      if (!ok) return this.#onBadFrame(new MeshError('FORGED', `bad signature on a ${message.kind} from ${frame.sender}`, { peerId: this.remoteId }))
      this.#events.emit('message', message, frame)
    })
  }

  /** A frame dropped with blame: `err` is a WireError (malformed) or a MeshError (FORGED). */
  #onBadFrame(err: unknown): void {
    if (this.#state === 'closed') return
    const cause = err instanceof WireError ? err : undefined
    const bad =
      err instanceof MeshError
        ? err
        : new MeshError('BAD_FRAME', `dropped a bad frame from ${this.remoteId ?? 'a peer'}: ${cause?.code ?? String(err)}`, {
            cause: err,
            peerId: this.remoteId,
          })
    // Policy (docs/LIMITS.md): an oversize frame closes the link at once; other bad frames are
    // dropped and counted, and the link is closed past maxBadFrames.
    if (cause?.code === 'FRAME_TOO_LARGE' || ++this.#badFrames > this.#ctx.maxBadFrames) return this.fail(bad)
    this.#events.emit('bad-frame', bad)
  }

  #onHandshake(message: MeshMessage): MaybePromise<void> {
    if (message.kind !== 'handshake') {
      return this.fail(new MeshError('HANDSHAKE_FAILED', `expected a handshake, got ${message.kind}`, { peerId: this.remoteId }))
    }
    // Errors name the link's id (what the transport or signaling proved), never an id the failed
    // handshake merely claims: an application banning `peerId` must not ban an impersonated node.
    const expected = this.link.remoteId
    const blame = expected ?? message.id
    if (message.protocolId !== this.#ctx.protocolId) {
      return this.fail(
        new MeshError('SUBNET_MISMATCH', `peer ${message.id} speaks protocol ${message.protocolId}, we speak ${this.#ctx.protocolId}`, {
          peerId: blame,
        }),
      )
    }
    if (message.id === this.#ctx.localId || (expected !== undefined && expected !== message.id)) {
      return this.fail(new MeshError('HANDSHAKE_FAILED', `peer claims id ${message.id} on a link to ${expected ?? '?'}`, { peerId: expected }))
    }
    this.#remoteId = message.id
    this.codec.setRemoteCompressions(message.compressions)
    const signing = this.#ctx.signing
    if (signing === undefined) return this.#becomeReady()
    // Signed mode: the id must be the hash of the key the peer shows, and the peer must prove it
    // holds that key by signing both nonces of this link (its auth message, next).
    if (message.publicKey === undefined || message.nonce === undefined) {
      return this.fail(new MeshError('AUTH_FAILED', `peer ${message.id} sent no public key`, { peerId: expected }))
    }
    if (!signing.verifier.idMatches(message.publicKey, message.id)) {
      return this.fail(new MeshError('AUTH_FAILED', `peer claims id ${message.id} with a key that is not its`, { peerId: expected }))
    }
    this.#peerKey = message.publicKey
    this.#peerNonce = message.nonce
    this.#state = 'authenticating'
    const input = handshakeInput(this.#ctx.protocolId, this.#ctx.localId, message.id, this.#nonce!, message.nonce)
    // Our auth goes out before anything else we send on this link (ready waits for it).
    return signing.identity.sign(input).then(
      (signature) => {
        if (this.#state === 'closed') return
        void this.send({ kind: 'auth', signature })
        this.#authPending.ourAuthSent = true
        this.#maybeReady()
      },
      (err: unknown) => this.fail(new MeshError('AUTH_FAILED', 'could not sign the handshake', { cause: err, peerId: expected })),
    )
  }

  #onAuth(message: MeshMessage): MaybePromise<void> {
    const peerId = this.#remoteId!
    const blame = this.link.remoteId // the claim is not proven yet
    if (message.kind !== 'auth') {
      return this.fail(new MeshError('AUTH_FAILED', `expected the handshake's proof of key, got ${message.kind}`, { peerId: blame }))
    }
    const input = handshakeInput(this.#ctx.protocolId, peerId, this.#ctx.localId, this.#peerNonce!, this.#nonce!)
    return andThen(this.#ctx.signing!.verifier.verify(this.#peerKey!, input, message.signature), (ok) => {
      if (this.#state === 'closed') return
      if (!ok) return this.fail(new MeshError('AUTH_FAILED', `peer ${peerId} failed to prove it holds its key`, { peerId: blame }))
      this.#authPending.theirAuthOk = true
      this.#maybeReady()
    })
  }

  #maybeReady(): void {
    if (this.#state === 'authenticating' && this.#authPending.ourAuthSent && this.#authPending.theirAuthOk) this.#becomeReady()
  }

  #becomeReady(): void {
    this.#state = 'ready'
    this.#ctx.clock.clearTimeout(this.#timer)
    this.#events.emit('ready')
  }

  #closed(reason: P2PError | undefined): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#ctx.clock.clearTimeout(this.#timer)
    this.#events.emit('closed', reason)
    this.#events.removeAll()
  }
}
