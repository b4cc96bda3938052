import {
  DEFAULT_MIN_COMPRESS_BYTES,
  SUPPORTED_COMPRESSIONS,
  compress,
  negotiateCompression,
  sanitizeCompressionList,
} from './compression.js'
import { andThen, type MaybePromise } from '../util/serial.js'
import { FRAME_DEFAULTS, decodeFrameWith, encodeBody, frameBody, packFrame, syncDigest, type DecodedFrame, type Digest, type FrameMessage, type FrameVariant } from './frame.js'

const MAX_BACKOFF_EXPONENT = 6
/** Bodies over this are first judged on a sample of this size (their last bytes, where payloads are). */
export const COMPRESS_SAMPLE_BYTES = 16 * 1024
const SAMPLE_ABOVE_BYTES = 4 * COMPRESS_SAMPLE_BYTES

export interface FrameCodecOptions {
  /** This node's compression preference list (default: zlib, gzip). Empty disables compression. */
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
 */
export class FrameCodec {
  readonly local: readonly number[]
  readonly #minCompressBytes: number
  readonly #limits: { maxFrameBytes: number; maxItems: number; maxDepth: number; variant: FrameVariant }
  #remote: number[] = []
  /** Consecutive attempts that did not pay, and eligible frames still to skip because of them. */
  #misses = 0
  #skip = 0
  #sendMethod: number | undefined
  #receiveMethods: number[] = []
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
    this.local = sanitizeCompressionList(options.compressions ?? SUPPORTED_COMPRESSIONS)
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
    this.#receiveMethods = this.local.filter((m) => this.#remote.includes(m))
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
  frame(body: Uint8Array, shared?: { raw?: Uint8Array }): Uint8Array {
    let wire = body
    if (this.#sendMethod !== undefined && body.length >= this.#minCompressBytes) {
      if (this.#skip > 0) {
        this.#skip--
      } else {
        this.#stats.compressAttempts++
        // A large body that its sample says will not compress is not compressed at all: deflating
        // 1 MiB of media costs ~25 ms, its last 16 KiB ~0.4 ms.
        const promising = body.length <= SAMPLE_ABOVE_BYTES || paysOff(this.#sendMethod, body.subarray(body.length - COMPRESS_SAMPLE_BYTES))
        const packed = promising ? compress(this.#sendMethod, body) : body
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

  decode(frame: Uint8Array): DecodedFrame {
    return this.decodeWith(frame, syncDigest) as DecodedFrame
  }

  /**
   * `decode` with the checksum computed by `digest`: a value, or a promise if the digest is async.
   * `variant` overrides the codec's layout for this frame (a signed link's handshake is 0.7's).
   */
  decodeWith(frame: Uint8Array, digest: Digest, variant: FrameVariant = this.#limits.variant): MaybePromise<DecodedFrame> {
    return andThen(decodeFrameWith(frame, { ...this.#limits, variant, compressions: this.#receiveMethods }, digest), (decoded) => {
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
