import { MeshError, WireError, type P2PError } from '../errors.js'
import type { Link } from '../transport/types.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import { Emitter } from '../util/emitter.js'
import { FrameCodec, type FrameCodecOptions } from '../wire/codec.js'
import type { DecodedFrame } from '../wire/frame.js'
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

  /** Encodes and sends one of our own messages; resolves when the link accepted it. */
  send(message: MeshMessage): Promise<void> {
    const frame = this.codec.encode(meshFrame(message, this.#ctx.localId, Math.floor(this.#ctx.clock.now() / 1000)))
    return this.#write(frame, isControl(message))
  }

  /** Relays a message body (ID || P) unchanged; resolves when the link accepted it. */
  forward(body: Uint8Array, urgent = false): Promise<void> {
    return this.#write(this.codec.frame(body), urgent)
  }

  #write(frame: Uint8Array, urgent: boolean): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve()
    this.lastSent = this.#ctx.clock.now()
    // A failed send means the link is closing: its 'close' event reports it.
    return this.link.send(frame, { urgent }).catch(() => {})
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
    let frame: DecodedFrame
    let message: MeshMessage
    try {
      frame = this.codec.decode(bytes)
      message = decodeMeshMessage(frame)
    } catch (err: unknown) {
      const cause = err instanceof WireError ? err : undefined
      const bad = new MeshError('BAD_FRAME', `dropped a bad frame from ${this.remoteId ?? 'a peer'}: ${cause?.code ?? String(err)}`, {
        cause: err,
        peerId: this.remoteId,
      })
      // Policy (docs/LIMITS.md): an oversize frame closes the link at once; other bad frames are
      // dropped and counted, and the link is closed past maxBadFrames.
      if (cause?.code === 'FRAME_TOO_LARGE' || ++this.#badFrames > this.#ctx.maxBadFrames) return this.fail(bad)
      this.#events.emit('bad-frame', bad)
      return
    }
    if (this.#state === 'handshaking') return this.#onHandshake(message)
    this.#events.emit('message', message, frame)
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
