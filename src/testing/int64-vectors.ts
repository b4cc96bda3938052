import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, toHex, utf8 } from '../util/bytes.js'

/**
 * The 64-bit integer vectors (test-only): src/wire/fixtures/vectors-int64.json. 0.7 frames whose
 * payloads hold integers beyond 32 bits, written as py2p 0.7 writes them: msgpack-python packs an
 * int in its smallest int form, unsigned when n ≥ 0 (fixint, uint 8/16/32, uint64 0xcf) and signed
 * when n < 0 (negative fixint, int 8/16/32, int64 0xd3); a float as float64 (0xcb). The msgpack
 * bytes are written here by hand from the msgpack specification, not with a msgpack library, so
 * that the fixture test checks the codec against an independent construction. Same sender and
 * time as the py2p vectors (vectors-0.7.json). Regenerate with
 * `npx tsx src/testing/make-vectors.ts`.
 */

const SENDER = '6VnYj9LjoVLTvU3uPhy4nxm6yv2wEvhaRtGHeV9wwFngWGGqKAzuZ8jK6gFuvq737V'
const TIMESTAMP = 1_500_000_000

/** One msgpack value among those the vectors use, in the form msgpack-python chooses. */
function pack(v: number | Uint8Array): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length > 0xff) throw new RangeError('bin 8 only')
    return concatBytes(Uint8Array.of(0xc4, v.length), v)
  }
  const out = new DataView(new ArrayBuffer(9))
  const take = (n: number): Uint8Array => new Uint8Array(out.buffer, 0, n)
  if (!Number.isSafeInteger(v)) {
    out.setUint8(0, 0xcb)
    out.setFloat64(1, v)
    return take(9)
  }
  if (v >= 0 && v < 0x80) return Uint8Array.of(v)
  if (v < 0 && v >= -0x20) return Uint8Array.of(0x100 + v)
  const forms: [number, number, number, number][] = [
    // [tag, width, min, max]
    [0xcc, 1, 0, 0xff],
    [0xcd, 2, 0, 0xffff],
    [0xce, 4, 0, 0xffff_ffff],
    [0xcf, 8, 0, Number.MAX_SAFE_INTEGER],
    [0xd0, 1, -0x80, -1],
    [0xd1, 2, -0x8000, -1],
    [0xd2, 4, -0x8000_0000, -1],
    [0xd3, 8, Number.MIN_SAFE_INTEGER, -1],
  ]
  const [tag, width] = forms.find(([, , min, max]) => v >= min && v <= max)!
  out.setUint8(0, tag)
  // Big-endian two's complement of `width` bytes, by BigInt (exact for every safe integer).
  out.setBigUint64(1, BigInt.asUintN(64, BigInt(v) << BigInt(64 - 8 * width)))
  return take(1 + width)
}

/** msgpack array header: fixarray (0x90 | n) up to 15 items. */
function arrayHeader(n: number): Uint8Array {
  if (n > 15) throw new RangeError('fixarray only')
  return Uint8Array.of(0x90 | n)
}

export interface Int64FrameVector {
  packets: string
  /** The payload as a JSON array (every value a number): what encodeFrame takes after the time. */
  payload: number[]
  p_hex: string
  id_hex: string
  frame_hex: string
  frame_len: number
}

export interface Int64Vectors {
  about: string
  sender: string
  timestamp: number
  /** Each integer of the vectors alone, as msgpack. */
  values: { value: number; msgpack_hex: string }[]
  messages: Record<'msg_broadcast_int64' | 'msg_broadcast_int_edges', Int64FrameVector>
}

const INT64S = [2 ** 32, 2 ** 40, 2 ** 53 - 1, -(2 ** 31) - 1, -(2 ** 53 - 1)]
/** Around them: the largest/smallest 32-bit ints, a millisecond timestamp, a float. */
const EDGES = [2 ** 32 - 1, -(2 ** 31), 1_500_000_000_000, 0.5]

/** A broadcast (main and sub flag 0x00) carrying `values` after the sub flag. */
function frame(values: number[]): Int64FrameVector {
  const payload = [0x00, ...values]
  const items: (number | Uint8Array)[] = [0x00, utf8(SENDER), TIMESTAMP, ...payload]
  const p = concatBytes(arrayHeader(items.length), ...items.map(pack))
  const id = sha256(p)
  const body = concatBytes(id, p)
  const len = new Uint8Array(4)
  new DataView(len.buffer).setUint32(0, body.length)
  const bytes = concatBytes(len, body)
  return {
    packets: `[0x00, bin(sender), ${TIMESTAMP}, 0x00, ${values.map(String).join(', ')}]`,
    payload,
    p_hex: toHex(p),
    id_hex: toHex(id),
    frame_hex: toHex(bytes),
    frame_len: bytes.length,
  }
}

export function buildInt64Vectors(): Int64Vectors {
  return {
    about:
      'Test vectors for integers beyond 32 bits in p2p.today 0.7 frames (docs/protocol.md, "Frame"): safe integers ' +
      'travel as msgpack uint64 (0xcf) / int64 (0xd3), as py2p 0.7 (msgpack-python) writes them, never as float64. ' +
      'Built by hand from the msgpack specification by src/testing/int64-vectors.ts (npx tsx ' +
      'src/testing/make-vectors.ts). packets is [main_flag, sender, time, sub_flag, ...payload]; the sender ' +
      'travels as msgpack bin; sender and time as in vectors-0.7.json.',
    sender: SENDER,
    timestamp: TIMESTAMP,
    values: [...INT64S, ...EDGES.filter(Number.isInteger)].map((value) => ({ value, msgpack_hex: toHex(pack(value)) })),
    messages: {
      msg_broadcast_int64: frame(INT64S),
      msg_broadcast_int_edges: frame(EDGES),
    },
  }
}

/** The fixture's text: JSON with a one-space indent, as the 0.7 vectors. */
export function int64VectorsJson(): string {
  return `${JSON.stringify(buildInt64Vectors(), null, 1)}\n`
}
