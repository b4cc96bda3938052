import { sha256 } from '@noble/hashes/sha2.js'
import { WireError } from '../errors.js'
import { concatBytes, equalBytes, fromUtf8, utf8 } from '../util/bytes.js'
import { isB58 } from './base58.js'
import { compress, decompress } from './compression.js'
import { assertWireValues, packArray, unpackArray, type PayloadLimits } from './payload.js'

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

/** Encodes ID || P (the uncompressed body) for a message, validating it first. */
export function encodeBody(msg: FrameMessage, options: EncodeOptions = {}): Uint8Array {
  checkHeader(msg.type, msg.sender, msg.time)
  if (!Array.isArray(msg.payload)) throw new WireError('INVALID_PAYLOAD', 'payload must be an array')
  const limits: PayloadLimits = {
    maxItems: options.maxItems ?? FRAME_DEFAULTS.maxItems,
    maxDepth: options.maxDepth ?? FRAME_DEFAULTS.maxDepth,
  }
  assertWireValues(msg.payload, limits)
  const packed = packArray([msg.type, utf8(msg.sender), msg.time, ...msg.payload])
  const maxFrameBytes = options.maxFrameBytes ?? FRAME_DEFAULTS.maxFrameBytes
  if (packed.length + ID_BYTES > maxFrameBytes) {
    // Checked on the uncompressed body: receivers cap what they inflate at the same bound.
    throw new WireError('FRAME_TOO_LARGE', `message of ${packed.length + ID_BYTES} bytes exceeds the ${maxFrameBytes}-byte limit`)
  }
  return concatBytes(sha256(packed), packed)
}

/** Prefixes LEN to a (possibly compressed) body, refusing bodies over `maxFrameBytes`. */
export function frameBody(body: Uint8Array, maxFrameBytes: number = FRAME_DEFAULTS.maxFrameBytes): Uint8Array {
  if (body.length > maxFrameBytes) {
    throw new WireError('FRAME_TOO_LARGE', `frame body of ${body.length} bytes exceeds the ${maxFrameBytes}-byte limit`)
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

function checksumOk(body: Uint8Array | undefined): body is Uint8Array {
  return body !== undefined && body.length > ID_BYTES && equalBytes(sha256(body.subarray(ID_BYTES)), body.subarray(0, ID_BYTES))
}

/**
 * Decodes one frame from untrusted bytes. Every failure is a WireError with a stable code;
 * nothing else is thrown.
 */
export function decodeFrame(frame: Uint8Array, options: DecodeOptions = {}): DecodedFrame {
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

  // 0.7 rule: try the negotiated methods, then read the bytes raw. A method "works" only if
  // its output passes the checksum, so a raw body that happens to parse as deflate is safe.
  let body: Uint8Array | undefined
  for (const method of options.compressions ?? []) {
    const candidate = decompress(method, raw, maxFrameBytes)
    if (checksumOk(candidate)) {
      body = candidate
      break
    }
  }
  if (body === undefined) {
    if (raw.length <= ID_BYTES) throw new WireError('FRAME_TRUNCATED', 'frame body shorter than its 32-byte id')
    if (!checksumOk(raw)) throw new WireError('FRAME_CHECKSUM', 'frame id does not match the SHA-256 of its body')
    body = raw
  }

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
