import { TransportError } from '../../errors.js'

/**
 * Splitting messages into data-channel-sized chunks, and putting them back together. Pure.
 *
 * Each data channel message starts with one kind byte:
 *   0x00 WHOLE   the rest is one complete message
 *   0x01 START   u32 big-endian total length, then the first bytes of a large message
 *   0x02 MORE    further bytes of the large message in progress
 * Large messages are sent one at a time, so at most one is in progress per direction; WHOLE
 * chunks (urgent control messages) may arrive between its pieces.
 */
export const CHUNK_KIND = { whole: 0x00, start: 0x01, more: 0x02 } as const

export const START_HEADER_BYTES = 5

/** The single WHOLE chunk of a message that fits in one (`data.length + 1 <= chunkBytes`). */
export function wholeChunk(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1)
  out[0] = CHUNK_KIND.whole
  out.set(data, 1)
  return out
}

/** The START chunk of a large message: header, total length, and its first `chunkBytes - 5` bytes. */
export function startChunk(data: Uint8Array, chunkBytes: number): Uint8Array {
  const first = new Uint8Array(chunkBytes)
  first[0] = CHUNK_KIND.start
  new DataView(first.buffer).setUint32(1, data.length, false)
  first.set(data.subarray(0, chunkBytes - START_HEADER_BYTES), START_HEADER_BYTES)
  return first
}

/** A MORE chunk carrying `piece`. */
export function moreChunk(piece: Uint8Array): Uint8Array {
  const out = new Uint8Array(piece.length + 1)
  out[0] = CHUNK_KIND.more
  out.set(piece, 1)
  return out
}

/** Splits one message into chunks of at most `chunkBytes` (header included). */
export function* chunkMessage(data: Uint8Array, chunkBytes: number): Generator<Uint8Array> {
  if (data.length + 1 <= chunkBytes) {
    yield wholeChunk(data)
    return
  }
  yield startChunk(data, chunkBytes)
  for (let offset = chunkBytes - START_HEADER_BYTES; offset < data.length; offset += chunkBytes - 1) {
    yield moreChunk(data.subarray(offset, offset + chunkBytes - 1))
  }
}

/** How many chunks `chunkMessage` makes of a message of `length` bytes. */
export function chunkCount(length: number, chunkBytes: number): number {
  if (length + 1 <= chunkBytes) return 1
  return 1 + Math.ceil((length - (chunkBytes - START_HEADER_BYTES)) / (chunkBytes - 1))
}

/**
 * Reassembles chunks from one peer. `push` returns a complete message, or undefined while a
 * large one is still arriving; it throws INVALID_MESSAGE / MESSAGE_TOO_LARGE on a protocol
 * violation (the link should then be closed: the stream can no longer be trusted).
 */
export class Reassembler {
  readonly #maxMessageBytes: number
  /** The message in progress: its announced length and the pieces so far (memory follows what arrived, not what was announced). */
  #partial: { total: number; pieces: Uint8Array[] } | undefined
  #filled = 0

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes
  }

  /** Bytes held for a message still arriving. */
  get pendingBytes(): number {
    return this.#partial === undefined ? 0 : this.#filled
  }

  push(chunk: Uint8Array): Uint8Array | undefined {
    const kind = chunk[0]
    if (kind === CHUNK_KIND.whole) {
      if (chunk.length - 1 > this.#maxMessageBytes) throw tooLarge(chunk.length - 1, this.#maxMessageBytes)
      return chunk.subarray(1)
    }
    if (kind === CHUNK_KIND.start) {
      if (this.#partial !== undefined) throw new TransportError('INVALID_MESSAGE', 'a new large message started before the last one ended')
      if (chunk.length < START_HEADER_BYTES) throw new TransportError('INVALID_MESSAGE', 'truncated START chunk')
      const total = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(1, false)
      if (total > this.#maxMessageBytes) throw tooLarge(total, this.#maxMessageBytes)
      const body = chunk.subarray(START_HEADER_BYTES)
      if (body.length >= total) throw new TransportError('INVALID_MESSAGE', 'START chunk holds the whole message')
      this.#partial = { total, pieces: [body] } // views: each chunk is a buffer of its own
      this.#filled = body.length
      return undefined
    }
    if (kind === CHUNK_KIND.more) {
      const partial = this.#partial
      if (partial === undefined) throw new TransportError('INVALID_MESSAGE', 'MORE chunk with no message in progress')
      const body = chunk.subarray(1)
      if (this.#filled + body.length > partial.total) throw new TransportError('INVALID_MESSAGE', 'chunks overrun the announced length')
      partial.pieces.push(body)
      this.#filled += body.length
      if (this.#filled < partial.total) return undefined
      const whole = new Uint8Array(partial.total)
      let offset = 0
      for (const piece of partial.pieces) {
        whole.set(piece, offset)
        offset += piece.length
      }
      this.#partial = undefined
      this.#filled = 0
      return whole
    }
    throw new TransportError('INVALID_MESSAGE', `unknown chunk kind ${String(kind)}`)
  }
}

function tooLarge(size: number, max: number): TransportError {
  return new TransportError('MESSAGE_TOO_LARGE', `peer sent a ${size}-byte message; the limit is ${max}`)
}
