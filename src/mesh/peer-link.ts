import { MeshError, WireError, type P2PError } from '../errors.js'
import type { Link } from '../transport/types.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { Emitter } from '../util/emitter.js'
import { isPromise, Serial, andThen, type MaybePromise } from '../util/serial.js'
import { FrameCodec, type FrameCodecOptions } from '../wire/codec.js'
import { bodyOf, ID_BYTES, LEN_BYTES, type DecodedFrame, type Digest } from '../wire/frame.js'
import { decodeMeshMessage, isControl, meshFrame, type MeshMessage } from './messages.js'

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
}

export type PeerLinkEvents = {
  /** Handshake complete: the peer is `remoteId`, speaking our protocol id. */
  ready: []
  message: [message: MeshMessage, frame: DecodedFrame]
  /** A frame was dropped (the link stays up unless the policy closes it). */
  'bad-frame': [err: MeshError]
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
  #state: 'handshaking' | 'ready' | 'closed' = 'handshaking'
  #badFrames = 0
  #timer: TimerHandle | undefined
  /** Frames in arrival order while one of them waits on an async digest. */
  readonly #inbound = new Serial()
  /** Our messages in call order while one of them waits on an async digest. */
  readonly #outbound = new Serial()
  lastHeard: number
  lastSent: number

  constructor(link: Link, outgoing: boolean, ctx: PeerLinkContext) {
    this.link = link
    this.outgoing = outgoing
    this.#ctx = ctx
    this.codec = new FrameCodec(ctx.codec)
    this.lastHeard = this.lastSent = ctx.clock.now()
    link.on('message', (bytes) => this.#onBytes(bytes))
    link.on('close', (reason) => this.#closed(reason))
  }

  /** The handshake's node id (the link's transport-level id until then). */
  get remoteId(): string | undefined {
    return this.#remoteId ?? this.link.remoteId
  }

  get state(): 'handshaking' | 'ready' | 'closed' {
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
    void this.send({ kind: 'handshake', id: this.#ctx.localId, protocolId: this.#ctx.protocolId, compressions: [...this.codec.local] })
  }

  /**
   * Encodes and sends one of our own messages; resolves when the link accepted it. Throws at once
   * (INVALID_PAYLOAD, FRAME_TOO_LARGE) for a message the wire cannot carry. Control messages jump
   * the queue; the others leave in call order.
   */
  send(message: MeshMessage): Promise<void> {
    const packed = this.codec.pack(meshFrame(message, this.#ctx.localId, Math.floor(this.#ctx.clock.now() / 1000)))
    if (isControl(message)) return this.#write(this.codec.frame(bodyOf(packed) as Uint8Array), true)
    return this.#outbound.run(() => andThen(bodyOf(packed, this.#ctx.digest), (body) => this.#write(this.codec.frame(body), false)))
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
    this.lastHeard = this.#ctx.clock.now()
    if (this.#state === 'ready' && bytes.length > LEN_BYTES + ID_BYTES && this.#ctx.seenBefore(bytes.subarray(LEN_BYTES, LEN_BYTES + ID_BYTES))) return
    // Decoded in arrival order; synchronously unless a large body's digest is computed by WebCrypto.
    // Decoding errors are the peer's (bad frames); errors of our own listeners propagate.
    this.#inbound.push(() => {
      let decoded: MaybePromise<DecodedFrame>
      try {
        decoded = this.codec.decodeWith(bytes, this.#ctx.digest)
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

  #onFrame(frame: DecodedFrame): void {
    if (this.#state === 'closed') return
    let message: MeshMessage
    try {
      message = decodeMeshMessage(frame)
    } catch (err: unknown) {
      return this.#onBadFrame(err)
    }
    if (this.#state === 'handshaking') return this.#onHandshake(message)
    this.#events.emit('message', message, frame)
  }

  #onBadFrame(err: unknown): void {
    if (this.#state === 'closed') return
    const cause = err instanceof WireError ? err : undefined
    const bad = new MeshError('BAD_FRAME', `dropped a bad frame from ${this.remoteId ?? 'a peer'}: ${cause?.code ?? String(err)}`, {
      cause: err,
      peerId: this.remoteId,
    })
    // Policy (docs/LIMITS.md): an oversize frame closes the link at once; other bad frames are
    // dropped and counted, and the link is closed past maxBadFrames.
    if (cause?.code === 'FRAME_TOO_LARGE' || ++this.#badFrames > this.#ctx.maxBadFrames) return this.fail(bad)
    this.#events.emit('bad-frame', bad)
  }

  #onHandshake(message: MeshMessage): void {
    if (message.kind !== 'handshake') {
      return this.fail(new MeshError('HANDSHAKE_FAILED', `expected a handshake, got ${message.kind}`, { peerId: this.remoteId }))
    }
    if (message.protocolId !== this.#ctx.protocolId) {
      return this.fail(
        new MeshError('SUBNET_MISMATCH', `peer ${message.id} speaks protocol ${message.protocolId}, we speak ${this.#ctx.protocolId}`, {
          peerId: message.id,
        }),
      )
    }
    const expected = this.link.remoteId
    if (message.id === this.#ctx.localId || (expected !== undefined && expected !== message.id)) {
      return this.fail(new MeshError('HANDSHAKE_FAILED', `peer claims id ${message.id} on a link to ${expected ?? '?'}`, { peerId: message.id }))
    }
    this.#remoteId = message.id
    this.codec.setRemoteCompressions(message.compressions)
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
