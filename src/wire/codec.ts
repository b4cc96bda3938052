import {
  DEFAULT_MIN_COMPRESS_BYTES,
  SUPPORTED_COMPRESSIONS,
  compress,
  negotiateCompression,
  sanitizeCompressionList,
} from './compression.js'
import { FRAME_DEFAULTS, decodeFrame, encodeBody, frameBody, type DecodedFrame, type FrameMessage } from './frame.js'

export interface FrameCodecOptions {
  /** This node's compression preference list (default: zlib, gzip). Empty disables compression. */
  compressions?: readonly number[]
  /** Bodies shorter than this go raw even when a method is negotiated (default 512). */
  minCompressBytes?: number
  maxFrameBytes?: number
  maxItems?: number
  maxDepth?: number
}

export interface FrameCodecStats {
  framesOut: number
  framesIn: number
  /** Uncompressed body bytes handed to the codec, and the bytes actually framed. */
  bodyBytesOut: number
  wireBytesOut: number
  wireBytesIn: number
  compressedOut: number
}

/**
 * Per-link frame codec: holds the negotiated compression method and applies the
 * opportunistic rule. Before `setRemoteCompressions` (the handshake), frames go raw, as 0.7
 * sends its handshake. A body is compressed only when it is at least `minCompressBytes` long
 * and the result is smaller; otherwise it goes raw, which every 0.7 receiver accepts (it tries
 * the negotiated methods, then raw).
 */
export class FrameCodec {
  readonly local: readonly number[]
  readonly #minCompressBytes: number
  readonly #limits: { maxFrameBytes: number; maxItems: number; maxDepth: number }
  #remote: number[] = []
  #sendMethod: number | undefined
  #receiveMethods: number[] = []
  readonly #stats: FrameCodecStats = {
    framesOut: 0,
    framesIn: 0,
    bodyBytesOut: 0,
    wireBytesOut: 0,
    wireBytesIn: 0,
    compressedOut: 0,
  }

  constructor(options: FrameCodecOptions = {}) {
    this.local = sanitizeCompressionList(options.compressions ?? SUPPORTED_COMPRESSIONS)
    this.#minCompressBytes = options.minCompressBytes ?? DEFAULT_MIN_COMPRESS_BYTES
    this.#limits = {
      maxFrameBytes: options.maxFrameBytes ?? FRAME_DEFAULTS.maxFrameBytes,
      maxItems: options.maxItems ?? FRAME_DEFAULTS.maxItems,
      maxDepth: options.maxDepth ?? FRAME_DEFAULTS.maxDepth,
    }
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
    const body = encodeBody(msg, this.#limits)
    let wire = body
    if (this.#sendMethod !== undefined && body.length >= this.#minCompressBytes) {
      const packed = compress(this.#sendMethod, body)
      if (packed.length < body.length) {
        wire = packed
        this.#stats.compressedOut++
      }
    }
    const frame = frameBody(wire, this.#limits.maxFrameBytes)
    this.#stats.framesOut++
    this.#stats.bodyBytesOut += body.length
    this.#stats.wireBytesOut += frame.length
    return frame
  }

  decode(frame: Uint8Array): DecodedFrame {
    const decoded = decodeFrame(frame, { ...this.#limits, compressions: this.#receiveMethods })
    this.#stats.framesIn++
    this.#stats.wireBytesIn += frame.length
    return decoded
  }
}
