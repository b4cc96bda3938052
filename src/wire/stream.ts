import { Deflate, Inflate, Z_SYNC_FLUSH } from 'pako'
import { WireError } from '../errors.js'
import { joinChunks } from '../util/bytes.js'

/**
 * Deflate with context takeover (docs/protocol.md, *Compression* → "Deflate stream"): each
 * direction of a link keeps one raw deflate stream per lane, and a frame's body is the next piece
 * of it, cut at a sync flush, its trailing 00 00 FF FF left off (as WebSocket's permessage-deflate
 * does). A piece refers back to what the lane sent before (32 KiB), so the sender id, flags and
 * keys that every frame repeats cost a few bits after the first frame. Only a link whose two ends
 * both listed the method uses it: 0.7 nodes never see such a frame.
 *
 * LEN's two top bits say which lane's stream a frame continues (a frame's length is below 2^30:
 * the frame limit is far lower). Neither bit: the body is as in 0.7, raw or compressed alone.
 * Urgent frames may overtake queued ones on the channel, so each lane has its own stream: within
 * a lane, frames reach the channel in the order they were made.
 */

/** The two lanes: frames sent in order, and urgent (control) frames that may overtake them. */
export type StreamLane = 0 | 1
export const LANE_BITS = [0x8000_0000, 0x4000_0000] as const
export const LEN_MASK = 0x3fff_ffff

/** Bodies above this leave the stream (sent alone, by the per-frame rule): bulk data gains little from history. */
export const STREAM_MAX_BODY_BYTES = 16 * 1024

/** The level of every stream (0.7's): the history, not the level, is where small frames gain. */
const STREAM_LEVEL = 6

const SYNC_TAIL = [0x00, 0x00, 0xff, 0xff] as const

/** One lane of a sender's stream: bodies in, pieces out (to be sent in the order made). */
export class DeflateLane {
  readonly #deflate = new Deflate({ level: STREAM_LEVEL, raw: true })
  #chunks: Uint8Array[] = []

  constructor() {
    this.#deflate.onData = (chunk) => {
      this.#chunks.push(chunk)
    }
  }

  /** The piece that carries `body`, without the sync flush's 4-byte tail. */
  push(body: Uint8Array): Uint8Array {
    this.#chunks = []
    if (!this.#deflate.push(body, Z_SYNC_FLUSH)) throw new WireError('STREAM_BROKEN', `deflate stream failed: ${this.#deflate.msg}`)
    const piece = joinChunks(this.#chunks)
    this.#chunks = []
    return piece.subarray(0, piece.length - SYNC_TAIL.length)
  }
}

/** One lane of a receiver's stream: pieces in, in the order sent. Any error leaves it unusable. */
export class InflateLane {
  #inflate: Inflate | undefined = new Inflate({ raw: true, chunkSize: 16 * 1024 })
  #chunks: Uint8Array[] = []
  #total = 0
  #max = 0

  constructor() {
    this.#inflate!.onData = (chunk) => {
      this.#total += chunk.length
      if (this.#total > this.#max) throw new WireError('FRAME_TOO_LARGE', `a stream frame inflates past ${this.#max} bytes`)
      this.#chunks.push(chunk)
    }
  }

  /**
   * The body `piece` carries. Throws STREAM_BROKEN for bytes that do not continue the stream,
   * FRAME_TOO_LARGE as soon as the output passes `maxBytes` (a bomb); either way the lane is then
   * dead, and so is the link: nothing after a lost piece can be read.
   */
  pull(piece: Uint8Array, maxBytes: number): Uint8Array {
    const inflate = this.#inflate
    if (inflate === undefined) throw new WireError('STREAM_BROKEN', 'the stream broke earlier')
    this.#chunks = []
    this.#total = 0
    this.#max = maxBytes
    const input = new Uint8Array(piece.length + SYNC_TAIL.length)
    input.set(piece)
    input.set(SYNC_TAIL, piece.length)
    try {
      inflate.push(input, Z_SYNC_FLUSH)
    } catch (err: unknown) {
      this.#inflate = undefined
      throw err instanceof WireError ? err : new WireError('STREAM_BROKEN', 'a stream frame did not inflate', { cause: err })
    }
    // Z_BUF_ERROR (-5) only says no progress was possible: an empty body is not an error.
    if ((inflate.err !== 0 && inflate.err !== -5) || inflate.ended) {
      this.#inflate = undefined
      throw new WireError('STREAM_BROKEN', `a stream frame did not inflate: ${inflate.msg || 'the stream ended'}`)
    }
    const body = joinChunks(this.#chunks)
    this.#chunks = []
    return body
  }
}
