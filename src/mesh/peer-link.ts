import { MeshError, WireError, type P2PError } from '../errors.js'
import type { Link } from '../transport/types.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { Emitter } from '../util/emitter.js'
import { isPromise, Serial, andThen, type MaybePromise } from '../util/serial.js'
import { FrameCodec, type FrameCodecOptions } from '../wire/codec.js'
import { bodyOf, ID_BYTES, LEN_BYTES, type DecodedFrame, type Digest } from '../wire/frame.js'
import { signingInput } from '../wire/signed.js'
import { Handshake, type PeerLinkSigning } from './handshake.js'
import { decodeMeshMessage, isControl, meshFrame, needsSignature, type MeshMessage } from './messages.js'
import type { ProtocolRegistry } from './protocol.js'
import { InboundRateLimit } from './rate-limit.js'

export type { PeerLinkSigning }

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
  /** Which protocol decodes each sub flag (absent: any sub flag is taken as it is, for test peers). */
  registry?: ProtocolRegistry
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
  #open: 'ready' | 'closed' | undefined
  #badFrames = 0
  readonly #handshake: Handshake
  readonly #rate: InboundRateLimit
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
    this.#rate = new InboundRateLimit(ctx.maxMessagesPerSecond, ctx.rateLimitGraceMs, this.lastHeard)
    this.#handshake = new Handshake({
      localId: ctx.localId,
      protocolId: ctx.protocolId,
      signing: ctx.signing,
      linkRemoteId: link.remoteId,
      send: (message) => void this.send(message),
      fail: (err) => this.fail(err),
      closed: () => this.#open === 'closed',
      identified: (id, compressions) => {
        this.#remoteId = id
        this.codec.setRemoteCompressions(compressions)
      },
      done: () => {
        this.#open = 'ready'
        this.#ctx.clock.clearTimeout(this.#timer)
        this.#events.emit('ready')
      },
    })
    link.on('message', (bytes) => this.#onBytes(bytes))
    link.on('close', (reason) => this.#closed(reason))
  }

  /** The handshake's node id (the link's transport-level id until then). */
  get remoteId(): string | undefined {
    return this.#remoteId ?? this.link.remoteId
  }

  get state(): 'handshaking' | 'authenticating' | 'ready' | 'closed' {
    return this.#open ?? (this.#handshake.state === 'handshaking' ? 'handshaking' : 'authenticating')
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
    void this.send(this.#handshake.hello([...this.codec.local]))
  }

  /**
   * Encodes and sends one of our own messages; resolves when the link accepted it. Throws at once
   * (INVALID_PAYLOAD, FRAME_TOO_LARGE) for a message the wire cannot carry. Control messages jump
   * the queue; the others leave in call order.
   */
  send(message: MeshMessage): Promise<void> {
    const packed = this.codec.pack(meshFrame(message, this.#ctx.localId, Math.floor(this.#ctx.clock.now() / 1000)))
    const variant = message.kind === 'handshake' ? '0.7' : this.codec.variant
    if (isControl(message)) return this.#write(this.codec.frame(bodyOf(packed, undefined, variant) as Uint8Array, undefined, true), true)
    return this.#outbound.run(() => andThen(bodyOf(packed, this.#ctx.digest, variant), (body) => this.#write(this.codec.frame(body), false)))
  }

  /** Relays a message body (ID || P) unchanged; resolves when the link accepted it. `shared`: see FrameCodec.frame. */
  forward(body: Uint8Array, urgent = false, shared?: { raw?: Uint8Array }): Promise<void> {
    const frame = this.codec.frame(body, shared, urgent)
    return this.#write(frame, urgent)
  }

  #write(frame: Uint8Array, urgent: boolean): Promise<void> {
    if (this.#open === 'closed') return Promise.resolve()
    this.lastSent = this.#ctx.clock.now()
    // Frames are never modified once made (a frame relayed to several links is one array), so
    // the link need not copy them. A failed send means the link is closing: 'close' reports it.
    return this.link.send(frame, { urgent, immutable: true }).catch(() => {})
  }

  /** Closes the link, reporting `err` as the reason. */
  fail(err: P2PError): void {
    if (this.#open === 'closed') return
    this.#closed(err)
    void this.link.close()
  }

  close(): Promise<void> {
    this.#closed(undefined)
    return this.link.close()
  }

  #onBytes(received: Uint8Array): void {
    if (this.#open === 'closed') return
    const now = this.#ctx.clock.now()
    this.lastHeard = now
    this.arrived.frames++
    this.arrived.bytes += received.length
    // A deflate-stream frame is inflated first, in arrival order, even if it is then dropped:
    // every later frame of its lane refers to it. A piece that does not inflate ends the link.
    let bytes: Uint8Array
    try {
      bytes = this.codec.unstream(received)
    } catch (err: unknown) {
      return this.#onBadFrame(err)
    }
    if (!this.#admit(now)) return
    if (this.#open === 'ready' && bytes.length > LEN_BYTES + ID_BYTES && this.#ctx.seenBefore(bytes.subarray(LEN_BYTES, LEN_BYTES + ID_BYTES))) return
    const signing = this.#ctx.signing
    // A frame of the deflate stream that does not decode means the stream is off: nothing after it can be trusted to.
    const streamed = bytes !== received
    if (signing !== undefined && this.#open === 'ready') return this.#onSignedBytes(signing, bytes, streamed)
    // Decoded in arrival order; synchronously unless a digest or a signature check answers later.
    // Decoding errors are the peer's (bad frames); errors of our own listeners propagate.
    this.#inbound.push(() => {
      let decoded: MaybePromise<DecodedFrame>
      try {
        // The handshake is in 0.7's layout on every link, so that a signed and an unsigned node
        // read each other's and part with SUBNET_MISMATCH instead of a timeout.
        decoded = this.codec.decodeWith(bytes, this.#ctx.digest, this.state === 'handshaking' ? '0.7' : this.codec.variant)
      } catch (err: unknown) {
        return this.#onBadFrame(err, streamed)
      }
      if (!isPromise(decoded)) return this.#onFrame(decoded)
      return decoded.then(
        (frame) => this.#onFrame(frame),
        (err: unknown) => this.#onBadFrame(err, streamed),
      )
    })
  }

  /**
   * A frame on an established signed link: decoded and its signature check started at once, so
   * that the checks of consecutive frames run side by side (WebCrypto's threads), while what they
   * found is still acted on in arrival order.
   */
  #onSignedBytes(signing: PeerLinkSigning, bytes: Uint8Array, streamed: boolean): void {
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
        if ('error' in c) return this.#onBadFrame(c.error, streamed)
        return this.#onFrame(c.frame, c.signatureOk)
      }),
    )
  }

  /** The inbound rate limit (rate-limit.ts): false drops the frame unread. */
  #admit(now: number): boolean {
    const verdict = this.#rate.admit(now)
    if (verdict === 'ok') return true
    if (verdict === 'exceeded') {
      const { perSecond, graceMs } = this.#rate
      this.fail(new MeshError('RATE_LIMITED', `${this.remoteId ?? 'a peer'} sent more than ${perSecond} messages/s for ${graceMs} ms`, { peerId: this.remoteId }))
    } else {
      this.#events.emit('dropped', 'rate')
    }
    return false
  }

  /** `signatureOk`: the signature check already started for this frame (signed links), if any. */
  #onFrame(frame: DecodedFrame, signatureOk?: MaybePromise<boolean>): MaybePromise<void> {
    if (this.#open === 'closed') return
    let message: MeshMessage
    try {
      message = decodeMeshMessage(frame, this.#ctx.registry)
    } catch (err: unknown) {
      return this.#onBadFrame(err)
    }
    if (this.#open === undefined) return this.#handshake.receive(message)
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
      if (this.#open === 'closed') return
      if (!ok) return this.#onBadFrame(new MeshError('FORGED', `bad signature on a ${message.kind} from ${frame.sender}`, { peerId: this.remoteId }))
      this.#events.emit('message', message, frame)
    })
  }

  /**
   * A frame dropped with blame: `err` is a WireError (malformed) or a MeshError (FORGED). `fatal`:
   * a malformed frame closes the link whatever the count (it came through the deflate stream).
   */
  #onBadFrame(err: unknown, fatal = false): void {
    if (this.#open === 'closed') return
    const cause = err instanceof WireError ? err : undefined
    const bad =
      err instanceof MeshError
        ? err
        : new MeshError('BAD_FRAME', `dropped a bad frame from ${this.remoteId ?? 'a peer'}: ${cause?.code ?? String(err)}`, {
            cause: err,
            peerId: this.remoteId,
          })
    // Policy (docs/LIMITS.md): an oversize frame, or a broken deflate stream (a piece that does not
    // inflate, or inflates into a bad frame: nothing after it can be read), closes the link at
    // once; other bad frames are dropped and counted, and the link is closed past maxBadFrames.
    if ((fatal && cause !== undefined) || cause?.code === 'FRAME_TOO_LARGE' || cause?.code === 'STREAM_BROKEN' || ++this.#badFrames > this.#ctx.maxBadFrames) return this.fail(bad)
    this.#events.emit('bad-frame', bad)
  }

  #closed(reason: P2PError | undefined): void {
    if (this.#open === 'closed') return
    this.#open = 'closed'
    this.#ctx.clock.clearTimeout(this.#timer)
    this.#events.emitLast('closed', reason)
  }
}
