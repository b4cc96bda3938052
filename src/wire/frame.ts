import { sha256 } from '@noble/hashes/sha2.js'
import { WireError } from '../errors.js'
import { asBufferSource, concatBytes, equalBytes, fromUtf8, utf8 } from '../util/bytes.js'
import { andThen, type MaybePromise } from '../util/serial.js'
import { isB58 } from './base58.js'
import { compress, decompress } from './compression.js'
import { assertWireValues, packArrayAfter, unpackArray, type PayloadLimits } from './payload.js'

/**
 * A frame: LEN || C(ID || P), LEN a big-endian uint32 byte count of what follows,
 * ID = SHA-256(P) (message id and checksum), P = msgpack([type, sender, time, ...payload]).
 */
export interface FrameMessage {
  /** Main flag (0x00–0x2F reserved for the protocol). */
  type: number
  /** Node id of the sender (base58). Sent as msgpack bin, accepted as bin or str. */
  sender: string
  /** Integer Unix seconds. */
  time: number
  /** Everything after the time; payload[0] is the sub flag. */
  payload: unknown[]
}

export interface DecodedFrame extends FrameMessage {
  /** The 32-byte SHA-256 of P: the message id. */
  id: Uint8Array
  /** ID || P, uncompressed: what a relay forwards unchanged (re-encoding could change P). */
  body: Uint8Array
}

/** Values before the payload in P: type, sender, time. */
const HEADER_ITEMS = 3

export const LEN_BYTES = 4
export const ID_BYTES = 32

/** Defaults for the decoder's bounds (docs/LIMITS.md). */
export const FRAME_DEFAULTS = {
  /** Largest LEN accepted, and largest decompressed body. */
  maxFrameBytes: 16 * 1024 * 1024,
  /** Most values in one message, nested ones included. */
  maxItems: 65_536,
  /** Deepest nesting of arrays/maps inside the payload. */
  maxDepth: 32,
} as const

/** Longest sender id accepted: a 384-bit id is at most 66 base58 digits, 0.7 ids at most 88. */
export const MAX_SENDER_LENGTH = 100

export interface EncodeOptions {
  /** A compression method flag; the body is compressed with it unconditionally. */
  compression?: number
  /** Bounds checked on the outgoing payload (defaults: FRAME_DEFAULTS). */
  maxItems?: number
  maxDepth?: number
  maxFrameBytes?: number
}

export interface DecodeOptions {
  /** Methods to try, in order, before reading the body raw (the link's negotiated ones). */
  compressions?: number[]
  maxFrameBytes?: number
  maxItems?: number
  maxDepth?: number
}

const MAX_UINT32 = 0xffff_ffff

function checkHeader(type: unknown, sender: unknown, time: unknown): void {
  if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > MAX_UINT32) {
    throw new WireError('FRAME_SHAPE', 'main flag must be an unsigned 32-bit integer')
  }
  if (!isB58(sender, MAX_SENDER_LENGTH)) throw new WireError('FRAME_SHAPE', 'sender must be a base58 node id')
  if (typeof time !== 'number' || !Number.isSafeInteger(time)) {
    throw new WireError('FRAME_SHAPE', 'timestamp must be an integer number of seconds')
  }
}

/**
 * A SHA-256 function for frame ids: synchronous, or returning a promise (WebCrypto). The codec
 * takes one so that large bodies can be hashed off the main thread.
 */
export type Digest = (data: Uint8Array) => MaybePromise<Uint8Array>

/** Bodies at least this long are hashed by WebCrypto in `webDigest` (measured in docs/BENCHMARKS.md). */
export const ASYNC_DIGEST_BYTES = 64 * 1024

/** The synchronous digest (@noble/hashes): the same result everywhere, at once. */
export const syncDigest: Digest = (data) => sha256(data)

/**
 * SHA-256 by WebCrypto for bodies of `ASYNC_DIGEST_BYTES` or more (in Chromium ~15x faster than
 * hashing in JS, and off the main thread), synchronous below that and where WebCrypto is missing.
 */
export const webDigest: Digest = (data) => {
  const subtle = globalThis.crypto?.subtle
  if (data.length < ASYNC_DIGEST_BYTES || subtle === undefined) return sha256(data)
  return subtle.digest('SHA-256', asBufferSource(data)).then((d) => new Uint8Array(d))
}

/**
 * Buffers laid out LEN || ID || P, so that a frame is built with one copy of P: `packFrame` makes
 * them (P → its buffer); `bodyOf` writes the id in place; `frameBody` writes LEN in front of a body
 * that has such room (bodies from `bodyOf`, and raw bodies `decodeFrame` cut out of a frame).
 */
const layouts = new WeakMap<Uint8Array, Uint8Array>()
const roomForLen = new WeakSet<Uint8Array>()

/** Validates a message and packs P = msgpack([type, sender, time, ...payload]); throws before anything is sent. */
export function packFrame(msg: FrameMessage, options: EncodeOptions = {}): Uint8Array {
  checkHeader(msg.type, msg.sender, msg.time)
  if (!Array.isArray(msg.payload)) throw new WireError('INVALID_PAYLOAD', 'payload must be an array')
  const limits: PayloadLimits = {
    // Receivers count type, sender and time among the frame's values: the payload gets the rest.
    maxItems: (options.maxItems ?? FRAME_DEFAULTS.maxItems) - HEADER_ITEMS,
    maxDepth: options.maxDepth ?? FRAME_DEFAULTS.maxDepth,
  }
  assertWireValues(msg.payload, limits)
  const layout = packArrayAfter(LEN_BYTES + ID_BYTES, [msg.type, utf8(msg.sender), msg.time, ...msg.payload])
  const maxFrameBytes = options.maxFrameBytes ?? FRAME_DEFAULTS.maxFrameBytes
  if (layout.length - LEN_BYTES > maxFrameBytes) {
    // Checked on the uncompressed body: receivers cap what they inflate at the same bound.
    throw new WireError('FRAME_TOO_LARGE', `message of ${layout.length - LEN_BYTES} bytes exceeds the ${maxFrameBytes}-byte limit`)
  }
  const packed = layout.subarray(LEN_BYTES + ID_BYTES)
  layouts.set(packed, layout)
  return packed
}

/** ID || P for a packed P, with the id from `digest` (now or later). */
export function bodyOf(packed: Uint8Array, digest: Digest = syncDigest): MaybePromise<Uint8Array> {
  return andThen(digest(packed), (id) => {
    const layout = layouts.get(packed)
    if (layout === undefined) return concatBytes(id, packed)
    layout.set(id, LEN_BYTES)
    const body = layout.subarray(LEN_BYTES)
    roomForLen.add(body)
    return body
  })
}

/** Encodes ID || P (the uncompressed body) for a message, validating it first. */
export function encodeBody(msg: FrameMessage, options: EncodeOptions = {}): Uint8Array {
  return bodyOf(packFrame(msg, options)) as Uint8Array
}

/** Prefixes LEN to a (possibly compressed) body, refusing bodies over `maxFrameBytes`. */
export function frameBody(body: Uint8Array, maxFrameBytes: number = FRAME_DEFAULTS.maxFrameBytes): Uint8Array {
  if (body.length > maxFrameBytes) {
    throw new WireError('FRAME_TOO_LARGE', `frame body of ${body.length} bytes exceeds the ${maxFrameBytes}-byte limit`)
  }
  if (roomForLen.has(body)) {
    const frame = new Uint8Array(body.buffer, body.byteOffset - LEN_BYTES, LEN_BYTES + body.length)
    new DataView(frame.buffer, frame.byteOffset, LEN_BYTES).setUint32(0, body.length, false)
    return frame
  }
  const out = new Uint8Array(LEN_BYTES + body.length)
  new DataView(out.buffer).setUint32(0, body.length, false)
  out.set(body, LEN_BYTES)
  return out
}

export function encodeFrame(msg: FrameMessage, options: EncodeOptions = {}): Uint8Array {
  const body = encodeBody(msg, options)
  const maxFrameBytes = options.maxFrameBytes ?? FRAME_DEFAULTS.maxFrameBytes
  return frameBody(options.compression === undefined ? body : compress(options.compression, body), maxFrameBytes)
}

function checksumOk(body: Uint8Array, digest: Digest): MaybePromise<boolean> {
  return andThen(digest(body.subarray(ID_BYTES)), (d) => equalBytes(d, body.subarray(0, ID_BYTES)))
}

/**
 * Decodes one frame from untrusted bytes. Every failure is a WireError with a stable code;
 * nothing else is thrown.
 */
export function decodeFrame(frame: Uint8Array, options: DecodeOptions = {}): DecodedFrame {
  return decodeFrameWith(frame, options, syncDigest) as DecodedFrame
}

/**
 * `decodeFrame` with the checksum computed by `digest`: the result is a value when the digest
 * answered at once, else a promise (which rejects with the same WireErrors).
 */
export function decodeFrameWith(frame: Uint8Array, options: DecodeOptions, digest: Digest): MaybePromise<DecodedFrame> {
  const maxFrameBytes = options.maxFrameBytes ?? FRAME_DEFAULTS.maxFrameBytes
  if (!(frame instanceof Uint8Array)) throw new WireError('FRAME_SHAPE', 'a frame is a Uint8Array')
  if (frame.length < LEN_BYTES) throw new WireError('FRAME_TRUNCATED', 'frame shorter than its length prefix')
  const len = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, false)
  if (len > maxFrameBytes) {
    throw new WireError('FRAME_TOO_LARGE', `frame announces ${len} bytes, over the ${maxFrameBytes}-byte limit`)
  }
  if (frame.length - LEN_BYTES !== len) {
    throw new WireError('FRAME_LENGTH_MISMATCH', `frame announces ${len} bytes but carries ${frame.length - LEN_BYTES}`)
  }
  const raw = frame.subarray(LEN_BYTES)
  const methods = options.compressions ?? []

  // 0.7 rule: try the negotiated methods, then read the bytes raw. A method "works" only if
  // its output passes the checksum, so a raw body that happens to parse as deflate is safe.
  const bodyFrom = (first: number): MaybePromise<Uint8Array> => {
    for (let i = first; i < methods.length; i++) {
      const candidate = decompress(methods[i]!, raw, maxFrameBytes)
      if (candidate !== undefined && candidate.length > ID_BYTES) {
        return andThen(checksumOk(candidate, digest), (ok) => (ok ? candidate : bodyFrom(i + 1)))
      }
    }
    if (raw.length <= ID_BYTES) throw new WireError('FRAME_TRUNCATED', 'frame body shorter than its 32-byte id')
    return andThen(checksumOk(raw, digest), (ok) => {
      if (!ok) throw new WireError('FRAME_CHECKSUM', 'frame id does not match the SHA-256 of its body')
      roomForLen.add(raw) // a relay re-frames it in place: LEN is already there
      return raw
    })
  }
  return andThen(bodyFrom(0), (body) => parseBody(body, options, maxFrameBytes))
}

function parseBody(body: Uint8Array, options: DecodeOptions, maxFrameBytes: number): DecodedFrame {
  const items = unpackArray(body.subarray(ID_BYTES), {
    maxItems: options.maxItems ?? FRAME_DEFAULTS.maxItems,
    maxDepth: options.maxDepth ?? FRAME_DEFAULTS.maxDepth,
    maxBytes: maxFrameBytes,
  })
  if (items.length < 3) throw new WireError('FRAME_SHAPE', 'a frame holds at least [type, sender, time]')
  const [type, rawSender, time, ...payload] = items
  let sender: unknown = rawSender
  if (rawSender instanceof Uint8Array) {
    try {
      sender = fromUtf8(rawSender)
    } catch {
      throw new WireError('FRAME_SHAPE', 'sender is not valid UTF-8')
    }
  }
  checkHeader(type, sender, time)
  return { type: type as number, sender: sender as string, time: time as number, payload, id: body.slice(0, ID_BYTES), body }
}
