import { B58_ALPHABET } from '../wire/base58.js'
import { concatBytes, utf8 } from '../util/bytes.js'
import type { Prng } from './prng.js'

/**
 * msgpack-aware pieces of the fuzzer (test-only): a lenient walker that finds the values in a
 * msgpack byte string, hand-made encodings of odd values (every format, non-canonical widths,
 * extension types, invalid UTF-8, the never-used 0xc1), and mutations that keep the surrounding
 * bytes intact so the decoder gets past the parts they do not touch.
 */

export type MsgpackKind = 'scalar' | 'str' | 'bin' | 'ext' | 'array' | 'map' | 'invalid'

/** One value: bytes [start, end), of which the first `header` are its type byte and length. */
export interface MsgpackNode {
  start: number
  end: number
  header: number
  kind: MsgpackKind
  /** Elements (array), pairs (map) or payload bytes (str, bin, ext). */
  count: number
}

function readUint(b: Uint8Array, at: number, width: number): number {
  let v = 0
  for (let i = 0; i < width; i++) v = v * 256 + (b[at + i] ?? 0)
  return v
}

/** Type byte → [kind, header bytes, width of the length field (0: none, -1: in the tag)]. */
function describe(b: Uint8Array, at: number): { kind: MsgpackKind; header: number; count: number } {
  const t = b[at] ?? 0xc1
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return { kind: 'scalar', header: 1, count: 0 }
  if (t <= 0x8f) return { kind: 'map', header: 1, count: t & 0x0f }
  if (t <= 0x9f) return { kind: 'array', header: 1, count: t & 0x0f }
  if (t <= 0xbf) return { kind: 'str', header: 1, count: t & 0x1f }
  const fixed: Record<number, number> = { 0xca: 5, 0xcb: 9, 0xcc: 2, 0xcd: 3, 0xce: 5, 0xcf: 9, 0xd0: 2, 0xd1: 3, 0xd2: 5, 0xd3: 9 }
  if (fixed[t] !== undefined) return { kind: 'scalar', header: fixed[t], count: 0 }
  const fixext: Record<number, number> = { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 }
  if (fixext[t] !== undefined) return { kind: 'ext', header: 2, count: fixext[t] }
  const sized: Record<number, [MsgpackKind, number, number]> = {
    0xc4: ['bin', 1, 0], 0xc5: ['bin', 2, 0], 0xc6: ['bin', 4, 0],
    0xc7: ['ext', 1, 1], 0xc8: ['ext', 2, 1], 0xc9: ['ext', 4, 1],
    0xd9: ['str', 1, 0], 0xda: ['str', 2, 0], 0xdb: ['str', 4, 0],
    0xdc: ['array', 2, 0], 0xdd: ['array', 4, 0], 0xde: ['map', 2, 0], 0xdf: ['map', 4, 0],
  }
  const s = sized[t]
  if (s === undefined) return { kind: 'invalid', header: 1, count: 0 }
  return { kind: s[0], header: 1 + s[1] + s[2], count: readUint(b, at + 1, s[1]) }
}

/**
 * The values of `bytes` in document order (outermost first), up to `maxNodes` and `maxDepth`.
 * Lenient: it stops at the first value that runs past the end and returns what it found.
 */
export function walkMsgpack(bytes: Uint8Array, maxNodes = 4096, maxDepth = 48): MsgpackNode[] {
  const nodes: MsgpackNode[] = []
  const visit = (at: number, depth: number): number => {
    if (at >= bytes.length || nodes.length >= maxNodes || depth > maxDepth) return -1
    const d = describe(bytes, at)
    const node: MsgpackNode = { start: at, end: -1, header: d.header, kind: d.kind, count: d.count }
    nodes.push(node)
    let end = at + d.header
    if (d.kind === 'str' || d.kind === 'bin' || d.kind === 'ext') end += d.count
    else if (d.kind === 'array' || d.kind === 'map') {
      const children = d.kind === 'map' ? d.count * 2 : d.count
      for (let i = 0; i < children && end !== -1; i++) end = visit(end, depth + 1)
    }
    if (end === -1 || end > bytes.length) return -1
    node.end = end
    return end
  }
  visit(0, 0)
  return nodes.filter((n) => n.end !== -1)
}

// ---- hand-made encodings ----------------------------------------------------------------------

const u = (width: number, v: number | bigint): number[] => {
  const out: number[] = []
  let n = BigInt.asUintN(width * 8, BigInt(v))
  for (let i = 0; i < width; i++, n >>= 8n) out.unshift(Number(n & 0xffn))
  return out
}

/** The header of a str/bin/array/map/ext of `count`, in the given width (1, 2 or 4 bytes; 0 = fix form). */
export function header(kind: 'str' | 'bin' | 'array' | 'map' | 'ext', count: number, width: 0 | 1 | 2 | 4, extType = 1): Uint8Array {
  const tags = { str: [0xa0, 0xd9, 0xda, 0xdb], bin: [-1, 0xc4, 0xc5, 0xc6], array: [0x90, -1, 0xdc, 0xdd], map: [0x80, -1, 0xde, 0xdf], ext: [-1, 0xc7, 0xc8, 0xc9] }[kind]
  const fixMax = kind === 'str' ? 31 : 15
  if (width === 0 && tags[0] !== -1 && count <= fixMax) return Uint8Array.of((tags[0] as number) | count)
  let w: 1 | 2 | 4 = width === 0 ? 4 : width
  if ((kind === 'array' || kind === 'map') && w === 1) w = 2
  const tag = tags[w === 1 ? 1 : w === 2 ? 2 : 3] as number
  return Uint8Array.from([tag, ...u(w, count), ...(kind === 'ext' ? [extType & 0xff] : [])])
}

function sized(rng: Prng, kind: 'str' | 'bin', data: Uint8Array): Uint8Array {
  const widths: (0 | 1 | 2 | 4)[] = kind === 'str' ? [0, 1, 2, 4] : [1, 2, 4]
  let w = rng.chance(0.8) ? widths[0]! : rng.pick(widths)
  if (w === 0 && data.length > 31) w = 1
  if (w === 1 && data.length > 255) w = 2
  if (w === 2 && data.length > 65535) w = 4
  return concatBytes(header(kind, data.length, w), data)
}

/** A base58 string of `length` digits (a node id when 46–66 long). */
export function randomB58(rng: Prng, length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) s += B58_ALPHABET.charAt(rng.int(58))
  return s
}

const AWKWARD_STRINGS = ['', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '0OIl', 'hello', '\u0000', '💥', 'a'.repeat(300)]
const INVALID_UTF8 = [Uint8Array.of(0xff), Uint8Array.of(0xc3, 0x28), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0xf4, 0x90, 0x80, 0x80), Uint8Array.of(0xe2, 0x82)]

/** Bytes for a str/bin body: text, base58 ids of many lengths, invalid UTF-8, random bytes. */
export function randomText(rng: Prng): Uint8Array {
  switch (rng.int(5)) {
    case 0:
      return utf8(rng.pick(AWKWARD_STRINGS))
    case 1:
      return utf8(randomB58(rng, rng.pick([1, 44, 46, 66, 88, 100, 101, 180, 181, rng.int(200)])))
    case 2:
      return rng.pick(INVALID_UTF8)
    case 3:
      return utf8(randomB58(rng, rng.int(8)) + rng.pick(['0', 'O', 'I', 'l', ' ', '+']))
    default:
      return rng.bytes(rng.int(rng.chance(0.9) ? 40 : 5000))
  }
}

const INTS: (number | bigint)[] = [0, 1, -1, 0x7f, 0x80, 0xff, 0x100, -32, -33, 0xffff, 0xffff_ffff, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 1, -(2 ** 53), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n]

/** One scalar in a random, often non-canonical, encoding. */
function randomScalar(rng: Prng): Uint8Array {
  switch (rng.int(9)) {
    case 0:
      return Uint8Array.of(rng.pick([0xc0, 0xc2, 0xc3, 0xc1]))
    case 1:
      return Uint8Array.of(rng.chance(0.5) ? rng.int(0x80) : 0xe0 + rng.int(32))
    case 2: {
      const v = rng.pick(INTS)
      const [tag, w] = rng.pick([[0xcc, 1], [0xcd, 2], [0xce, 4], [0xcf, 8], [0xd0, 1], [0xd1, 2], [0xd2, 4], [0xd3, 8]] as const)
      return Uint8Array.from([tag, ...u(w, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)))])
    }
    case 3: {
      const f = rng.pick([0, -0, 0.5, -1.5, NaN, Infinity, -Infinity, 1e308, 5e-324, 1500000000.5, rng.range(-1e9, 1e9)])
      const dv = new DataView(new ArrayBuffer(8))
      if (rng.chance(0.5)) {
        dv.setFloat32(0, f)
        return Uint8Array.from([0xca, ...new Uint8Array(dv.buffer, 0, 4)])
      }
      dv.setFloat64(0, f)
      return Uint8Array.from([0xcb, ...new Uint8Array(dv.buffer)])
    }
    case 4:
    case 5:
      return sized(rng, 'str', randomText(rng))
    case 6:
      return sized(rng, 'bin', randomText(rng))
    case 7: {
      // Extension types: fixext and ext8, the timestamp type (-1) included.
      const type = rng.pick([-1, 0, 1, 127, -128])
      const len = rng.pick([1, 2, 4, 8, 12, 16, rng.int(20)])
      const fix: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }
      const data = rng.bytes(len)
      if (fix[len] !== undefined && rng.chance(0.5)) return Uint8Array.from([fix[len], type & 0xff, ...data])
      return concatBytes(header('ext', len, 1, type), data)
    }
    default:
      return Uint8Array.of(rng.int(256))
  }
}

/** Any msgpack value (sometimes malformed), containers up to `depth` levels deep. */
export function randomValue(rng: Prng, depth = 3): Uint8Array {
  if (depth <= 0 || rng.chance(0.6)) return randomScalar(rng)
  const n = rng.chance(0.9) ? rng.int(5) : rng.int(40)
  const width = rng.pick([0, 0, 0, 2, 4] as const)
  if (rng.chance(0.5)) {
    const items = Array.from({ length: n }, () => randomValue(rng, depth - 1))
    return concatBytes(header('array', n, width), ...items)
  }
  const pairs: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const key = rng.chance(0.8) ? sized(rng, 'str', rng.chance(0.5) ? utf8(rng.pick(AWKWARD_STRINGS)) : randomText(rng)) : randomValue(rng, 1)
    pairs.push(key, randomValue(rng, depth - 1))
  }
  return concatBytes(header('map', n, width), ...pairs)
}

// ---- structured mutations ---------------------------------------------------------------------

const replace = (b: Uint8Array, node: MsgpackNode, withBytes: Uint8Array): Uint8Array =>
  concatBytes(b.subarray(0, node.start), withBytes, b.subarray(node.end))

/** Tags of every format family, for type-byte swaps. */
const TAGS = [0x00, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xa5, 0xbf, 0xe0, 0xff, ...Array.from({ length: 0x20 }, (_, i) => 0xc0 + i)]
const HUGE = [0xffff_ffff, 0x7fff_ffff, 0x8000_0000, 65_535, 65_536, 65_537, 16 * 1024 * 1024, 16 * 1024 * 1024 + 1]

export type StructuredMutation = (rng: Prng, bytes: Uint8Array, nodes: MsgpackNode[]) => Uint8Array

/** Mutations that need the value map of P; each picks its own node. */
export const STRUCTURED: Record<string, StructuredMutation> = {
  'swap-type': (rng, b, nodes) => {
    const node = rng.pick(nodes)
    const out = b.slice()
    out[node.start] = rng.pick(TAGS)
    return out
  },
  'huge-length': (rng, b, nodes) => {
    const node = rng.pick(nodes)
    const kind = node.kind === 'scalar' || node.kind === 'invalid' ? rng.pick(['str', 'bin', 'array', 'map', 'ext'] as const) : node.kind
    const count = rng.chance(0.8) ? rng.pick(HUGE) : node.count + 1 + rng.int(4)
    const keep = node.kind === 'scalar' ? b.subarray(node.start, node.end) : b.subarray(node.start + node.header, node.end)
    return replace(b, node, concatBytes(header(kind, count, rng.pick([2, 4, 4] as const)), keep))
  },
  'deep-nest': (rng, b, nodes) => {
    const node = rng.pick(nodes)
    const levels = rng.pick([31, 32, 33, 64, 1000, 20_000])
    const open = rng.chance(0.5) ? Uint8Array.of(0x91) : Uint8Array.of(0x81, 0xa1, 0x6b) // [x] or {k: x}
    const prefix = new Uint8Array(levels * open.length)
    for (let i = 0; i < levels; i++) prefix.set(open, i * open.length)
    return replace(b, node, concatBytes(prefix, b.subarray(node.start, node.end)))
  },
  'many-items': (rng, b, nodes) => {
    const node = rng.pick(nodes)
    // One array over the cap, or several under it whose total is over.
    const sizes = rng.chance(0.5) ? [rng.pick([65_535, 65_536, 65_537])] : [30_000, 30_000, 6_000]
    const parts = sizes.map((n) => concatBytes(header('array', n, 4), new Uint8Array(n).fill(0xc0)))
    return replace(b, node, concatBytes(header('array', parts.length, 0), ...parts))
  },
  'replace-value': (rng, b, nodes) => replace(b, rng.pick(nodes), randomValue(rng)),
  'insert-value': (rng, b, nodes) => {
    const node = rng.pick(nodes)
    return concatBytes(b.subarray(0, node.start), randomValue(rng), b.subarray(node.start))
  },
  'delete-value': (rng, b, nodes) => replace(b, rng.pick(nodes), new Uint8Array(0)),
  'duplicate-value': (rng, b, nodes) => {
    const node = rng.pick(nodes)
    return concatBytes(b.subarray(0, node.end), b.subarray(node.start, node.end), b.subarray(node.end))
  },
  'set-count': (rng, b, nodes) => {
    const containers = nodes.filter((n) => n.kind === 'array' || n.kind === 'map' || n.kind === 'str' || n.kind === 'bin')
    if (containers.length === 0) return b
    const node = rng.pick(containers)
    const count = Math.max(0, rng.chance(0.7) ? node.count + rng.pick([-2, -1, 1, 2]) : rng.int(70_000))
    const kind = node.kind as 'str' | 'bin' | 'array' | 'map'
    const body = b.subarray(node.start + node.header, node.end)
    return replace(b, node, concatBytes(header(kind, count, rng.pick([0, 1, 2, 4] as const)), body))
  },
}
