import { WireError } from '../errors.js'
import {
  DEFAULT_MIN_COMPRESS_BYTES,
  DEFAULT_COMPRESSIONS,
  compress,
  isPerFrame,
  negotiateCompression,
  sanitizeCompressionList,
} from './compression.js'
import { COMPRESSION } from './flags.js'
import { andThen, type MaybePromise } from '../util/serial.js'
import { FRAME_DEFAULTS, LEN_BYTES, decodeFrameWith, encodeBody, frameBody, packFrame, syncDigest, type DecodedFrame, type Digest, type FrameMessage, type FrameVariant } from './frame.js'
import { DeflateLane, InflateLane, LANE_BITS, LEN_MASK, STREAM_MAX_BODY_BYTES, type StreamLane } from './stream.js'

const MAX_BACKOFF_EXPONENT = 6
/** Bodies over this are first judged on a sample of this size (their last bytes, where payloads are). */
export const COMPRESS_SAMPLE_BYTES = 16 * 1024
const SAMPLE_ABOVE_BYTES = 4 * COMPRESS_SAMPLE_BYTES
/** Bodies this long or longer may be kept out of the deflate stream by the backoff; shorter ones never are. */
export const STREAM_BACKOFF_BYTES = 1024

export interface FrameCodecOptions {
  /** This node's compression preference list (default: deflate stream, zlib, gzip). Empty disables compression. */
  compressions?: readonly number[]
  /** Bodies shorter than this go raw even when a method is negotiated (default 512). */
  minCompressBytes?: number
  maxFrameBytes?: number
  maxItems?: number
  maxDepth?: number
  /** Frame layout on this link (default '0.7'; the mesh's signed mode uses 'signed'). */
  variant?: FrameVariant
}

export interface FrameCodecStats {
  framesOut: number
  framesIn: number
  /** Uncompressed body bytes handed to the codec, and the bytes actually framed. */
  bodyBytesOut: number
  wireBytesOut: number
  wireBytesIn: number
  compressedOut: number
  /** Bodies the codec tried to compress (compressedOut of them paid). */
  compressAttempts: number
}

/**
 * Per-link frame codec: holds the negotiated compression method and applies the
 * opportunistic rule. Before `setRemoteCompressions` (the handshake), frames go raw, as 0.7
 * sends its handshake. A body is compressed only when it is at least `minCompressBytes` long
 * and the result is smaller; otherwise it goes raw, which every 0.7 receiver accepts (it tries
 * the negotiated methods, then raw). When compressing saves less than 1/8 of a body, the next
 * 1, 2, 4 … 64 eligible bodies are sent raw without trying (reset by the next attempt that pays).
 *
 * When both ends listed the deflate stream (stream.ts), bodies of up to 16 KiB, however small, go
 * through this link's stream for their lane instead (a body framed for several links, `shared`,
 * goes alone: one deflate per link would cost each relay more than it saves); the per-frame
 * method (the first other one both listed) serves the rest.
 */
export class FrameCodec {
  readonly local: readonly number[]
  readonly #minCompressBytes: number
  readonly #limits: { maxFrameBytes: number; maxItems: number; maxDepth: number; variant: FrameVariant }
  #remote: number[] = []
  /** Consecutive attempts that did not pay, and eligible frames still to skip because of them. */
  #misses = 0
  #skip = 0
  /** The same per lane for bodies the deflate stream would take (reconciliation ids do not compress; data does). */
  readonly #stream: [{ misses: number; skip: number }, { misses: number; skip: number }] = [
    { misses: 0, skip: 0 },
    { misses: 0, skip: 0 },
  ]
  #sendMethod: number | undefined
  /** The per-frame method: the negotiated one, or, when that is the stream, the next one both listed. */
  #frameMethod: number | undefined
  #receiveMethods: number[] = []
  /** Per lane (in order, urgent): this side's deflate stream, and the peer's as inflated here. */
  readonly #lanesOut: [DeflateLane | undefined, DeflateLane | undefined] = [undefined, undefined]
  readonly #lanesIn: [InflateLane | undefined, InflateLane | undefined] = [undefined, undefined]
  readonly #stats: FrameCodecStats = {
    framesOut: 0,
    framesIn: 0,
    bodyBytesOut: 0,
    wireBytesOut: 0,
    wireBytesIn: 0,
    compressedOut: 0,
    compressAttempts: 0,
  }

  constructor(options: FrameCodecOptions = {}) {
    this.local = sanitizeCompressionList(options.compressions ?? DEFAULT_COMPRESSIONS)
    this.#minCompressBytes = options.minCompressBytes ?? DEFAULT_MIN_COMPRESS_BYTES
    this.#limits = {
      maxFrameBytes: options.maxFrameBytes ?? FRAME_DEFAULTS.maxFrameBytes,
      maxItems: options.maxItems ?? FRAME_DEFAULTS.maxItems,
      maxDepth: options.maxDepth ?? FRAME_DEFAULTS.maxDepth,
      variant: options.variant ?? '0.7',
    }
  }

  /** The frame layout this codec reads and writes. */
  get variant(): FrameVariant {
    return this.#limits.variant
  }

  /** Records the peer's advertised list (untrusted: unknown entries are ignored). */
  setRemoteCompressions(list: unknown): void {
    this.#remote = sanitizeCompressionList(list)
    this.#sendMethod = negotiateCompression(this.local, this.#remote)
    this.#frameMethod = negotiateCompression(this.local.filter(isPerFrame), this.#remote)
    this.#receiveMethods = this.local.filter((m) => isPerFrame(m) && this.#remote.includes(m))
  }

  /** The method used for outgoing frames, or undefined when none is shared. */
  get sendMethod(): number | undefined {
    return this.#sendMethod
  }

  get stats(): Readonly<FrameCodecStats> {
    return { ...this.#stats }
  }

  encode(msg: FrameMessage): Uint8Array {
    return this.frame(encodeBody(msg, this.#limits))
  }

  /** Validates a message and packs its P under this codec's limits and variant (see `packFrame`, `sealBody`). */
  pack(msg: FrameMessage): Uint8Array {
    return packFrame(msg, this.#limits)
  }

  /**
   * Frames an already-encoded body (ID || P), compressing it by the link's rule. Relays use it
   * to forward a message byte-for-byte, so its id stays the same on every hop. A relay sending one
   * body to several links passes the same `shared` object to each: a body that goes raw is then
   * framed once, not once per link.
   */
  frame(body: Uint8Array, shared?: { raw?: Uint8Array }, urgent = false): Uint8Array {
    const streamable = this.#sendMethod === COMPRESSION.deflateStream && shared === undefined && body.length <= STREAM_MAX_BODY_BYTES && body.length + 64 <= this.#limits.maxFrameBytes
    if (streamable) {
      // Small bodies always take the stream (a few µs; their headers repeat), larger ones unless
      // their lane is backing off: then they go raw (they did not compress).
      const lane = urgent ? 1 : 0
      const backoff = this.#stream[lane]
      if (body.length < STREAM_BACKOFF_BYTES || backoff.skip === 0) return this.#streamed(body, lane)
      backoff.skip--
    }
    let wire = body
    if (!streamable && this.#frameMethod !== undefined && body.length >= this.#minCompressBytes) {
      if (this.#skip > 0) {
        this.#skip--
      } else {
        this.#stats.compressAttempts++
        // A large body that its sample says will not compress is not compressed at all: deflating
        // 1 MiB of media costs ~25 ms, its last 16 KiB ~0.4 ms.
        const promising = body.length <= SAMPLE_ABOVE_BYTES || paysOff(this.#frameMethod, body.subarray(body.length - COMPRESS_SAMPLE_BYTES))
        const packed = promising ? compress(this.#frameMethod, body) : body
        if (packed.length <= body.length - body.length / 8) {
          wire = packed
          this.#stats.compressedOut++
          this.#misses = 0
        } else {
          // Incompressible data (media, encrypted, already compressed) tends to come in runs:
          // skip the next 1, 2, 4 … 64 eligible frames before trying again.
          this.#skip = 2 ** Math.min(this.#misses, MAX_BACKOFF_EXPONENT)
          this.#misses++
          if (packed.length < body.length) {
            wire = packed
            this.#stats.compressedOut++
          }
        }
      }
    }
    let frame: Uint8Array
    if (wire === body && shared !== undefined) frame = shared.raw ??= frameBody(body, this.#limits.maxFrameBytes)
    else frame = frameBody(wire, this.#limits.maxFrameBytes)
    this.#stats.framesOut++
    this.#stats.bodyBytesOut += body.length
    this.#stats.wireBytesOut += frame.length
    return frame
  }

  /**
   * `body` as the next piece of `lane`'s stream. Once pushed it is always sent (the peer's stream
   * must see every piece). A body of STREAM_BACKOFF_BYTES or more that the stream could not
   * shrink by 1/32 (media, ciphertext) starts the same backoff as a frame: the next 1, 2, 4 … 64
   * such bodies go raw. (Signed frames carry 97 random bytes, and a batch of signatures and hashes
   * may save less than 1/8: history still pays there.)
   */
  #streamed(body: Uint8Array, lane: StreamLane): Uint8Array {
    this.#stats.compressAttempts++
    const piece = (this.#lanesOut[lane] ??= new DeflateLane()).push(body)
    this.#stats.compressedOut++
    const backoff = this.#stream[lane]
    if (body.length < STREAM_BACKOFF_BYTES || piece.length <= body.length - body.length / 32) backoff.misses = 0
    else {
      backoff.skip = 2 ** Math.min(backoff.misses, MAX_BACKOFF_EXPONENT)
      backoff.misses++
    }
    const frame = new Uint8Array(LEN_BYTES + piece.length)
    new DataView(frame.buffer).setUint32(0, (piece.length | LANE_BITS[lane]) >>> 0, false)
    frame.set(piece, LEN_BYTES)
    this.#stats.framesOut++
    this.#stats.bodyBytesOut += body.length
    this.#stats.wireBytesOut += frame.length
    return frame
  }

  /**
   * A frame as 0.7 lays it out: a stream frame (LEN's top bits) inflated by its lane, any other
   * as it came. Call it once per frame, in arrival order (`decode` does). Throws STREAM_BROKEN
   * for a stream frame that does not continue its lane, FRAME_TOO_LARGE past the limit; after
   * either the link cannot go on. A codec that did not offer the stream reads LEN as 0.7 does.
   */
  unstream(frame: Uint8Array): Uint8Array {
    if (!(frame instanceof Uint8Array) || frame.length < LEN_BYTES) return frame
    const word = new DataView(frame.buffer, frame.byteOffset, LEN_BYTES).getUint32(0, false)
    const bits = (word & ~LEN_MASK) >>> 0
    // Without the stream offered, or with both bits set, LEN is 0.7's: refused as too large.
    if ((bits !== LANE_BITS[0] && bits !== LANE_BITS[1]) || !this.local.includes(COMPRESSION.deflateStream)) return frame
    if ((word & LEN_MASK) !== frame.length - LEN_BYTES) {
      throw new WireError('STREAM_BROKEN', `a stream frame announces ${word & LEN_MASK} bytes but carries ${frame.length - LEN_BYTES}`)
    }
    const lane: StreamLane = bits === LANE_BITS[0] ? 0 : 1
    const body = (this.#lanesIn[lane] ??= new InflateLane()).pull(frame.subarray(LEN_BYTES), this.#limits.maxFrameBytes)
    return frameBody(body, this.#limits.maxFrameBytes)
  }

  decode(frame: Uint8Array): DecodedFrame {
    return this.decodeWith(frame, syncDigest) as DecodedFrame
  }

  /**
   * `decode` with the checksum computed by `digest`: a value, or a promise if the digest is async.
   * `variant` overrides the codec's layout for this frame (a signed link's handshake is 0.7's).
   */
  decodeWith(frame: Uint8Array, digest: Digest, variant: FrameVariant = this.#limits.variant): MaybePromise<DecodedFrame> {
    return andThen(decodeFrameWith(this.unstream(frame), { ...this.#limits, variant, compressions: this.#receiveMethods }, digest), (decoded) => {
      this.#stats.framesIn++
      this.#stats.wireBytesIn += frame.length
      return decoded
    })
  }
}

/** Whether compressing `sample` saves at least 1/8 of it. */
function paysOff(method: number, sample: Uint8Array): boolean {
  return compress(method, sample).length <= sample.length - sample.length / 8
}
