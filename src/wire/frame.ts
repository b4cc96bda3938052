import { sha256 } from '@noble/hashes/sha2.js'
import { WireError } from '../errors.js'
import { asBufferSource, concatBytes, equalBytes, fromUtf8, utf8 } from '../util/bytes.js'
import { andThen, type MaybePromise } from '../util/serial.js'
import { isNodeId, MAX_ID_LENGTH } from './base58.js'
import { compress, decompress } from './compression.js'
import { assertWireValues, packArrayAfter, unpackArray, type PayloadLimits } from './payload.js'

/**
 * A frame: LEN || C(ID || P), LEN a big-endian uint32 byte count of what follows,
 * ID = SHA-256(P) (message id and checksum), P = msgpack([type, sender, time, ...payload]).
 *
 * The signed variant (ours, docs/protocol.md "Signed frames") puts an authentication block
 * between ID and P: LEN || C(ID || K || A || P), K one byte: 0x00 (authenticated by the link's
 * handshake, A empty) or 0x01 (A = the sender's 32-byte Ed25519 public key and a 64-byte
 * signature of `signingInput(protocolId, ID)`). ID is still SHA-256(P).
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

/** The frame layout a link speaks: p2p.today 0.7's, or the signed variant. */
export type FrameVariant = '0.7' | 'signed'

/** The signed variant's K byte. */
export const AUTH_KIND = { link: 0x00, ed25519: 0x01 } as const
export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
/** Bytes the signed variant adds to a frame: K, and for a signed message the key and signature. */
export const AUTH_OVERHEAD = { link: 1, ed25519: 1 + PUBLIC_KEY_BYTES + SIGNATURE_BYTES } as const

/** A signed message's authentication block (signed variant, K = 0x01). */
export interface FrameAuth {
  publicKey: Uint8Array
  signature: Uint8Array
}

export interface DecodedFrame extends FrameMessage {
  /** The 32-byte SHA-256 of P: the message id. */
  id: Uint8Array
  /** ID || P (signed variant: ID || K || A || P), uncompressed: what a relay forwards unchanged (re-encoding could change P). */
  body: Uint8Array
  /** Signed variant only: the key and signature of a signed message (K = 0x01); absent for link-authenticated ones. */
  auth?: FrameAuth
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

/** Longest sender id accepted: a node id (base58 of a 384-bit number, 0.7's too) is at most 66 digits (isNodeId). */
export const MAX_SENDER_LENGTH = MAX_ID_LENGTH

export interface EncodeOptions {
  /** A compression method flag; the body is compressed with it unconditionally. */
  compression?: number
  /** Bounds checked on the outgoing payload (defaults: FRAME_DEFAULTS). */
  maxItems?: number
  maxDepth?: number
  maxFrameBytes?: number
  /** Layout (default '0.7'). */
  variant?: FrameVariant
  /** Signed variant: the signed message's block; without it the frame is link-authenticated (K = 0x00). */
  auth?: FrameAuth
}

export interface DecodeOptions {
  /** Methods to try, in order, before reading the body raw (the link's negotiated ones). */
  compressions?: number[]
  maxFrameBytes?: number
  maxItems?: number
  maxDepth?: number
  /** Layout (default '0.7'). */
  variant?: FrameVariant
}

const MAX_UINT32 = 0xffff_ffff

function checkHeader(type: unknown, sender: unknown, time: unknown): void {
  if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > MAX_UINT32) {
    throw new WireError('FRAME_SHAPE', 'main flag must be an unsigned 32-bit integer')
  }
  if (!isNodeId(sender)) throw new WireError('FRAME_SHAPE', 'sender must be a base58 node id')
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
 * Buffers with room for LEN || ID (|| K || A) before P, so that a frame is built with one copy of
 * P: `packFrame` makes them (P → its buffer); `sealBody` writes the id (and K, A) in place;
 * `frameBody` writes LEN in front of a body that has such room (bodies from `sealBody`, and raw
 * bodies `decodeFrame` cut out of a frame).
 */
const layouts = new WeakMap<Uint8Array, Uint8Array>()
/** Room before P: LEN, ID, and the largest authentication block. */
const HEADROOM = LEN_BYTES + ID_BYTES + AUTH_OVERHEAD.ed25519
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
  const layout = packArrayAfter(HEADROOM, [msg.type, utf8(msg.sender), msg.time, ...msg.payload])
  const packed = layout.subarray(HEADROOM)
  // Checked on the uncompressed body, with the largest authentication block the variant allows:
  // receivers cap what they inflate at the same bound.
  const bodyBytes = ID_BYTES + (options.variant === 'signed' ? AUTH_OVERHEAD.ed25519 : 0) + packed.length
  const maxFrameBytes = options.maxFrameBytes ?? FRAME_DEFAULTS.maxFrameBytes
  if (bodyBytes > maxFrameBytes) {
    throw new WireError('FRAME_TOO_LARGE', `message of ${bodyBytes} bytes exceeds the ${maxFrameBytes}-byte limit`)
  }
  layouts.set(packed, layout)
  return packed
}

/**
 * The body for a packed P and its id: ID || P (0.7), or ID || K || A || P (signed variant; K =
 * 0x01 with `auth`, else 0x00). Written in place in front of P when `packFrame` made it.
 */
export function sealBody(packed: Uint8Array, id: Uint8Array, variant: FrameVariant = '0.7', auth?: FrameAuth): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== ID_BYTES) throw new WireError('INVALID_PAYLOAD', 'a message id is 32 bytes')
  const parts: Uint8Array[] = [id]
  if (variant === 'signed') {
    if (auth === undefined) parts.push(Uint8Array.of(AUTH_KIND.link))
    else {
      if (!(auth.publicKey instanceof Uint8Array) || auth.publicKey.length !== PUBLIC_KEY_BYTES || !(auth.signature instanceof Uint8Array) || auth.signature.length !== SIGNATURE_BYTES) {
        throw new WireError('FRAME_AUTH', 'a signed message needs a 32-byte public key and a 64-byte signature')
      }
      parts.push(Uint8Array.of(AUTH_KIND.ed25519), auth.publicKey, auth.signature)
    }
  } else if (auth !== undefined) {
    throw new WireError('FRAME_AUTH', '0.7 frames carry no signature: use the signed variant')
  }
  const layout = layouts.get(packed)
  if (layout === undefined) return concatBytes(...parts, packed)
  let at = HEADROOM
  for (let i = parts.length - 1; i >= 0; i--) {
    at -= parts[i]!.length
    layout.set(parts[i]!, at)
  }
  const body = layout.subarray(at)
  roomForLen.add(body)
  return body
}

/** ID || P (0.7, or the signed variant's link-authenticated form) for a packed P, with the id from `digest` (now or later). */
export function bodyOf(packed: Uint8Array, digest: Digest = syncDigest, variant: FrameVariant = '0.7'): MaybePromise<Uint8Array> {
  return andThen(digest(packed), (id) => sealBody(packed, id, variant))
}

/** Encodes the uncompressed body for a message, validating it first (signed variant: with `options.auth` if given). */
export function encodeBody(msg: FrameMessage, options: EncodeOptions = {}): Uint8Array {
  const packed = packFrame(msg, options)
  return sealBody(packed, sha256(packed), options.variant, options.auth)
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

/** Where P starts in a body, or undefined if the signed variant's K byte is not one we know. */
function payloadStart(body: Uint8Array, variant: FrameVariant): number | undefined {
  if (variant === '0.7') return ID_BYTES
  const kind = body[ID_BYTES]
  if (kind === AUTH_KIND.link) return ID_BYTES + AUTH_OVERHEAD.link
  if (kind === AUTH_KIND.ed25519) return ID_BYTES + AUTH_OVERHEAD.ed25519
  return undefined
}

function checksumOk(body: Uint8Array, digest: Digest, variant: FrameVariant): MaybePromise<boolean> {
  const start = payloadStart(body, variant)
  if (start === undefined || body.length <= start) return false
  return andThen(digest(body.subarray(start)), (d) => equalBytes(d, body.subarray(0, ID_BYTES)))
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
  const variant = options.variant ?? '0.7'

  // 0.7 rule: try the negotiated methods, then read the bytes raw. A method "works" only if
  // its output passes the checksum, so a raw body that happens to parse as deflate is safe.
  const bodyFrom = (first: number): MaybePromise<Uint8Array> => {
    for (let i = first; i < methods.length; i++) {
      const candidate = decompress(methods[i]!, raw, maxFrameBytes)
      if (candidate !== undefined && candidate.length > ID_BYTES) {
        return andThen(checksumOk(candidate, digest, variant), (ok) => (ok ? candidate : bodyFrom(i + 1)))
      }
    }
    if (raw.length <= ID_BYTES) throw new WireError('FRAME_TRUNCATED', 'frame body shorter than its 32-byte id')
    const start = payloadStart(raw, variant)
    if (start === undefined) throw new WireError('FRAME_AUTH', `unknown authentication kind 0x${raw[ID_BYTES]!.toString(16)}`)
    if (raw.length <= start) throw new WireError('FRAME_TRUNCATED', 'frame body shorter than its id and authentication block')
    return andThen(checksumOk(raw, digest, variant), (ok) => {
      if (!ok) throw new WireError('FRAME_CHECKSUM', 'frame id does not match the SHA-256 of its body')
      roomForLen.add(raw) // a relay re-frames it in place: LEN is already there
      return raw
    })
  }
  return andThen(bodyFrom(0), (body) => parseBody(body, options, maxFrameBytes, variant))
}

function parseBody(body: Uint8Array, options: DecodeOptions, maxFrameBytes: number, variant: FrameVariant): DecodedFrame {
  const start = payloadStart(body, variant)! // the checksum passed: the K byte is known
  const items = unpackArray(body.subarray(start), {
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
  const decoded: DecodedFrame = { type: type as number, sender: sender as string, time: time as number, payload, id: body.slice(0, ID_BYTES), body }
  if (start === ID_BYTES + AUTH_OVERHEAD.ed25519) {
    const a = ID_BYTES + 1
    decoded.auth = { publicKey: body.subarray(a, a + PUBLIC_KEY_BYTES), signature: body.subarray(a + PUBLIC_KEY_BYTES, start) }
  }
  return decoded
}
