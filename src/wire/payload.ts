import { Decoder, Encoder, type ExtensionCodecType } from '@msgpack/msgpack'
import { WireError } from '../errors.js'

/**
 * msgpack values as p2p.today carries them: nil, bool, int (to 64 bits), float64, str, bin,
 * array, map with string keys. `Uint8Array` is bin and `string` is str. Extension types
 * (timestamps included) are not part of the protocol and are refused both ways.
 *
 * Integers go out in the smallest msgpack int form, as py2p's packer writes them: a `number` that
 * is a safe integer (|n| ≤ 2^53 − 1) as (u)int 8/16/32, or beyond 32 bits as uint64 (0xcf, n ≥ 0)
 * or int64 (0xd3, n < 0); a `bigint` always as uint64/int64; any other `number` as float64 (0xcb).
 * On receipt every int that is a safe integer is a `number`, any other a `bigint`.
 */
export type WireValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | WireValue[]
  | { [key: string]: WireValue }

export interface PayloadLimits {
  /** Total number of values in one message, counting every nested element. */
  maxItems: number
  /** Deepest nesting of arrays and maps below the top-level array. */
  maxDepth: number
}

const INT64_MIN = -(1n << 63n)
const UINT64_END = 1n << 64n
/** Safe integers outside [INT32_MIN, UINT32_END) go out as int64/uint64. */
const INT32_MIN = -0x8000_0000
const UINT32_END = 0x1_0000_0000

/** Refuses every extension type: 0.7 defines none, so a peer that sends one is malformed. */
const NO_EXTENSIONS: ExtensionCodecType<undefined> = {
  tryToEncode: () => null,
  decode: (_data, type) => {
    throw new WireError('FRAME_UNSUPPORTED_TYPE', `msgpack extension type ${type} is not part of the protocol`)
  },
}

const ENCODER_OPTIONS = { useBigInt64: true, extensionCodec: NO_EXTENSIONS, maxDepth: 1_000 } as const

/** The members of @msgpack/msgpack's Encoder (3.x, private in its typings) that WireEncoder replaces or calls. */
interface EncoderInternals {
  encodeNumber(n: number): void
  writeU8(byte: number): void
  /** Big-endian uint64/int64 of a safe integer (the library's writers when `useBigInt64` is off). */
  writeU64(n: number): void
  writeI64(n: number): void
  clone(): Encoder<undefined>
}
const INTERNALS = ['encodeNumber', 'writeU8', 'writeU64', 'writeI64', 'clone'] as const

/**
 * @msgpack/msgpack's Encoder with py2p's integer rule. With `useBigInt64` (needed for `bigint`) the
 * library writes a safe integer beyond the 32-bit ranges as a float64, which py2p reads back as a
 * float; here it is written as the uint64/int64 it is, by the writers the library itself uses
 * without `useBigInt64` (no BigInt allocated). Numbers within 32 bits, non-integers and bigints
 * take the library's path unchanged. The vectors in fixtures/vectors-int64.json hold these bytes,
 * so a library upgrade that renames the members used here fails those tests (and this module
 * refuses to load) rather than sending floats.
 */
class WireEncoder extends Encoder<undefined> {
  constructor() {
    super(ENCODER_OPTIONS)
  }
}
const libraryEncoder = Encoder.prototype as unknown as Partial<EncoderInternals>
const encodeNumberAsLibrary = libraryEncoder.encodeNumber
if (encodeNumberAsLibrary === undefined || INTERNALS.some((name) => typeof libraryEncoder[name] !== 'function')) {
  throw new Error(`@msgpack/msgpack: Encoder internals changed (${INTERNALS.join(', ')}); src/wire/payload.ts needs updating`)
}
Object.defineProperties(WireEncoder.prototype, {
  encodeNumber: {
    value(this: EncoderInternals, n: number): void {
      // The range test first: it is false for nearly every number sent, and cheaper than isSafeInteger.
      if ((n >= UINT32_END || n < INT32_MIN) && Number.isSafeInteger(n)) {
        if (n >= 0) {
          this.writeU8(0xcf)
          this.writeU64(n)
        } else {
          this.writeU8(0xd3)
          this.writeI64(n)
        }
      } else {
        encodeNumberAsLibrary.call(this, n)
      }
    },
  },
  // The library clones itself when encode() is re-entered (a getter that sends): keep the rule there.
  clone: { value: (): Encoder<undefined> => new WireEncoder() },
})

const encoder = new WireEncoder()

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/**
 * Checks that `values` is made only of wire values within `limits`; throws INVALID_PAYLOAD
 * (naming the offending path) otherwise. `undefined` is accepted and travels as nil.
 */
export function assertWireValues(values: readonly unknown[], limits: PayloadLimits): void {
  let items = 0
  const visit = (v: unknown, depth: number, path: string): void => {
    if (++items > limits.maxItems) {
      throw new WireError('INVALID_PAYLOAD', `message has more than ${limits.maxItems} values`)
    }
    switch (typeof v) {
      case 'undefined':
      case 'boolean':
      case 'number':
      case 'string':
        return
      case 'bigint':
        if (v < INT64_MIN || v >= UINT64_END) {
          throw new WireError('INVALID_PAYLOAD', `${path}: bigint outside the 64-bit range msgpack carries`)
        }
        return
      case 'object':
        break
      default:
        throw new WireError('INVALID_PAYLOAD', `${path}: a ${typeof v} cannot be sent`)
    }
    if (v === null || v instanceof Uint8Array) return
    if (depth >= limits.maxDepth) {
      throw new WireError('INVALID_PAYLOAD', `${path}: nested deeper than ${limits.maxDepth}`)
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, depth + 1, `${path}[${i}]`))
      return
    }
    if (!isPlainObject(v)) {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object'
      throw new WireError('INVALID_PAYLOAD', `${path}: a ${name} cannot be sent (use Uint8Array, arrays, plain objects)`)
    }
    for (const [key, item] of Object.entries(v)) {
      if (key === '__proto__') throw new WireError('INVALID_PAYLOAD', `${path}: the key __proto__ cannot be sent`)
      visit(item, depth + 1, `${path}.${key}`)
    }
  }
  values.forEach((v, i) => visit(v, 0, `payload[${i}]`))
}

/** msgpack-encodes an array of wire values (the caller validates them first). */
export function packArray(values: readonly unknown[]): Uint8Array {
  return encoder.encode(values)
}

/**
 * `packArray` into a new buffer that starts with `headroom` zero bytes (room for a header written
 * later): the encoding is copied once, from the encoder's scratch buffer into the result.
 */
export function packArrayAfter(headroom: number, values: readonly unknown[]): Uint8Array {
  const encoded = encoder.encodeSharedRef(values)
  const out = new Uint8Array(headroom + encoded.length)
  out.set(encoded, headroom)
  return out
}

/**
 * Decodes one msgpack array of wire values from untrusted bytes. Allocation is bounded before
 * it happens (array, map, str and bin lengths), then the tree is checked for depth and total
 * count, and int64 values that fit in a double become numbers (bigint otherwise).
 */
export function unpackArray(bytes: Uint8Array, limits: PayloadLimits & { maxBytes: number }): unknown[] {
  const decoder = new Decoder({
    useBigInt64: true,
    extensionCodec: NO_EXTENSIONS,
    maxArrayLength: limits.maxItems,
    maxMapLength: limits.maxItems,
    maxStrLength: limits.maxBytes,
    maxBinLength: limits.maxBytes,
  })
  let decoded: unknown
  try {
    decoded = decoder.decode(bytes)
  } catch (err: unknown) {
    if (err instanceof WireError) throw err
    // The library's length caps fire before allocation; an array or map over the cap is
    // already over the total.
    if (err instanceof Error && /^Max length exceeded: (array|map) length/.test(err.message)) {
      throw new WireError('FRAME_TOO_MANY_ITEMS', `frame has more than ${limits.maxItems} values`, { cause: err })
    }
    throw new WireError('FRAME_MSGPACK', `invalid msgpack: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  if (!Array.isArray(decoded)) throw new WireError('FRAME_SHAPE', 'a frame body must be a msgpack array')

  let items = 0
  const normalize = (v: unknown, depth: number): unknown => {
    if (++items > limits.maxItems) {
      throw new WireError('FRAME_TOO_MANY_ITEMS', `frame has more than ${limits.maxItems} values`)
    }
    if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
    if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v
    if (depth >= limits.maxDepth) throw new WireError('FRAME_TOO_DEEP', `frame nests deeper than ${limits.maxDepth}`)
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = normalize(v[i], depth + 1)
      return v
    }
    if (!isPlainObject(v)) throw new WireError('FRAME_UNSUPPORTED_TYPE', 'frame holds a value outside the protocol')
    const obj = v as Record<string, unknown>
    for (const key of Object.keys(obj)) obj[key] = normalize(obj[key], depth + 1)
    return obj
  }
  for (let i = 0; i < decoded.length; i++) decoded[i] = normalize(decoded[i], 0)
  return decoded
}
