/**
 * The byte layout of range-based set reconciliation messages (docs/protocol.md, "Anti-entropy:
 * range-based set reconciliation"): varints, bounds, ranges. Pure; the decoder is the validating
 * boundary for bytes from a peer and throws only RbsrDecodeError.
 */

import { sha256 } from '@noble/hashes/sha2.js'

/** First byte of every message: the layout's version (2: id lists carry 8-byte list ids; 1 carried whole ids). */
export const RBSR_VERSION = 0x02
export const RBSR_ID_BYTES = 16
/** Bytes of each id an `idList` or a `diff` carries: an item's list id, not its whole id. */
export const RBSR_LIST_ID_BYTES = 8

/**
 * An item's list id: the first 8 bytes of SHA-256 of its id. Id lists name items within one range
 * of at most a few dozen, where 64 bits tell them apart (two items of one range share a list id
 * with odds of about 2^-54); fingerprints and bounds still use whole ids. Hashed rather than cut,
 * so that ids sharing their first bytes (bounds need only a prefix) still differ here.
 */
export function listId(id: Uint8Array): Uint8Array {
  return sha256(id).subarray(0, RBSR_LIST_ID_BYTES)
}
export const RBSR_FINGERPRINT_BYTES = 16
/** Largest varint value accepted: an encoded time is at most (2^53 - 1) + 1. */
export const RBSR_MAX_VARINT = 2 ** 53

/** Range modes on the wire. */
export const RANGE_MODE = { skip: 0, fingerprint: 1, idList: 2, diff: 3, diffCount: 4 } as const
type ModeName = keyof typeof RANGE_MODE
const MODE_NAMES = Object.keys(RANGE_MODE) as ModeName[]

/** A message from a peer that is not a well-formed reconciliation message. */
export class RbsrDecodeError extends RangeError {
  readonly code = 'RBSR_MALFORMED'
  constructor(message: string) {
    super(message)
    this.name = 'RbsrDecodeError'
  }
}

/**
 * A point in the (time, id) order: `time` then `prefix` padded with zero bytes to 16. `time` is
 * Infinity for the end of the space (the last range's upper bound).
 */
export interface RbsrBound {
  readonly time: number
  readonly prefix: Uint8Array
}
export const MIN_BOUND: RbsrBound = Object.freeze({ time: 0, prefix: new Uint8Array(0) })
export const END_BOUND: RbsrBound = Object.freeze({ time: Infinity, prefix: new Uint8Array(0) })

/** -1, 0 or 1 as `a` sorts before, with or after `b`. */
export function compareBounds(a: RbsrBound, b: RbsrBound): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1
  const n = Math.max(a.prefix.length, b.prefix.length)
  for (let i = 0; i < n; i++) {
    const x = a.prefix[i] ?? 0
    const y = b.prefix[i] ?? 0
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

/** One range of a message: its exclusive upper bound (the lower is the previous range's upper). */
export type RbsrRange =
  | { readonly upper: RbsrBound; readonly mode: 'skip' }
  | { readonly upper: RbsrBound; readonly mode: 'fingerprint'; readonly fingerprint: Uint8Array }
  /** `ids`: list ids (`listId`, 8 bytes) here and in `diff`. */
  | { readonly upper: RbsrBound; readonly mode: 'idList'; readonly ids: readonly Uint8Array[] }
  /** The answer to an idList: `bits` bits, bit i set when the sender lacks the i-th listed id; its own extra ids. */
  | { readonly upper: RbsrBound; readonly mode: 'diff'; readonly bits: number; readonly lacking: Uint8Array; readonly ids: readonly Uint8Array[] }
  /** The same, with only the count of the sender's extra ids (too many to list). */
  | { readonly upper: RbsrBound; readonly mode: 'diffCount'; readonly bits: number; readonly lacking: Uint8Array; readonly count: number }

// ---------------------------------------------------------------- varints

/** Bytes of `n` as a varint (base-128 digits, most significant first). */
export function varintSize(n: number): number {
  let size = 1
  while (n >= 128) {
    n = Math.floor(n / 128)
    size++
  }
  return size
}

/** Bytes `bound` takes after a bound of time `lastTime` in the same message. */
export function boundSize(bound: RbsrBound, lastTime: number): number {
  if (bound.time === Infinity) return 2
  return varintSize(bound.time - lastTime + 1) + 1 + bound.prefix.length
}

/** A growable byte buffer that writes the layout; `mark()`/`reset()` undo a tentative append. */
export class RbsrWriter {
  #buf = new Uint8Array(1024)
  #len = 0
  #lastTime = 0

  get length(): number {
    return this.#len
  }
  mark(): [number, number] {
    return [this.#len, this.#lastTime]
  }
  reset([len, lastTime]: [number, number]): void {
    this.#len = len
    this.#lastTime = lastTime
  }
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#len)
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n))
    next.set(this.#buf.subarray(0, this.#len))
    this.#buf = next
  }
  byte(b: number): void {
    this.#room(1)
    this.#buf[this.#len++] = b
  }
  raw(b: Uint8Array): void {
    this.#room(b.length)
    this.#buf.set(b, this.#len)
    this.#len += b.length
  }
  varint(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > RBSR_MAX_VARINT) throw new RangeError(`varint out of range: ${n}`)
    const size = varintSize(n)
    this.#room(size)
    for (let i = size - 1; i >= 0; i--) {
      this.#buf[this.#len + i] = (n % 128) | (i === size - 1 ? 0 : 0x80)
      n = Math.floor(n / 128)
    }
    this.#len += size
  }
  bound(b: RbsrBound): void {
    if (b.time === Infinity) {
      this.varint(0)
      this.varint(0)
      return
    }
    if (b.time < this.#lastTime) throw new RangeError('bounds must ascend within a message')
    this.varint(b.time - this.#lastTime + 1)
    this.#lastTime = b.time
    this.varint(b.prefix.length)
    this.raw(b.prefix)
  }
  range(r: RbsrRange): void {
    this.bound(r.upper)
    this.byte(RANGE_MODE[r.mode])
    switch (r.mode) {
      case 'skip':
        return
      case 'fingerprint':
        return this.raw(r.fingerprint)
      case 'idList':
        this.varint(r.ids.length)
        for (const id of r.ids) this.listId(id)
        return
      case 'diff':
      case 'diffCount':
        this.varint(r.bits)
        this.raw(r.lacking)
        if (r.mode === 'diffCount') return this.varint(r.count)
        this.varint(r.ids.length)
        for (const id of r.ids) this.listId(id)
    }
  }
  listId(id: Uint8Array): void {
    if (id.length !== RBSR_LIST_ID_BYTES) throw new RangeError(`a list id is ${RBSR_LIST_ID_BYTES} bytes, not ${id.length}`)
    this.raw(id)
  }
}

/** Room kept at the end of a message: a pending skip (at most 26 bytes) and the remainder fingerprint (19). */
export const RBSR_TAIL_BYTES = 45

/** One outgoing message under construction: contiguous ranges, adjacent skips merged, within the frame. */
export class RbsrReply {
  readonly #w = new RbsrWriter()
  #pendingSkip: RbsrBound | undefined
  /** Where the ranges given so far end (a pending skip included), and the first item at or after it. */
  end = MIN_BOUND
  endIndex = 0
  /** It has a fingerprint or id list: the peer must answer. */
  open = false

  constructor(readonly frameBytes: number) {
    this.#w.byte(RBSR_VERSION)
  }

  skip(upper: RbsrBound, upperIndex: number): void {
    this.#pendingSkip = upper
    this.end = upper
    this.endIndex = upperIndex
  }

  /** Appends `range` (items up to `upperIndex`) if it fits with room for the tail and `reserve`; false if not. */
  add(range: RbsrRange, upperIndex: number, reserve: number): boolean {
    const mark = this.#w.mark()
    if (this.#pendingSkip !== undefined) this.#w.range({ upper: this.#pendingSkip, mode: 'skip' })
    this.#w.range(range)
    if (this.#w.length + RBSR_TAIL_BYTES + reserve > this.frameBytes) {
      this.#w.reset(mark)
      return false
    }
    this.#pendingSkip = undefined
    this.end = range.upper
    this.endIndex = upperIndex
    if (range.mode === 'fingerprint' || range.mode === 'idList') this.open = true
    return true
  }

  /** The frame is full: the rest of the space, from where the ranges end, goes as one fingerprint (of items from endIndex on). */
  cut(fingerprint: Uint8Array): void {
    if (this.#pendingSkip !== undefined) this.#w.range({ upper: this.#pendingSkip, mode: 'skip' })
    this.#pendingSkip = undefined
    this.#w.range({ upper: END_BOUND, mode: 'fingerprint', fingerprint })
    this.open = true
  }

  /** The bytes (a trailing skip is implicit). */
  bytes(): Uint8Array {
    return this.#w.bytes()
  }
}

/** A whole message: the version byte, then the ranges (for tests and docs; sessions use RbsrWriter). */
export function encodeRbsrMessage(ranges: readonly RbsrRange[]): Uint8Array {
  const w = new RbsrWriter()
  w.byte(RBSR_VERSION)
  for (const r of ranges) w.range(r)
  return w.bytes()
}

// ---------------------------------------------------------------- decoding

class Reader {
  pos = 0
  lastTime = 0
  constructor(readonly bytes: Uint8Array) {}

  get left(): number {
    return this.bytes.length - this.pos
  }
  take(n: number, what: string): Uint8Array {
    if (n > this.left) throw new RbsrDecodeError(`truncated ${what}: ${n} bytes wanted, ${this.left} left`)
    const out = this.bytes.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }
  varint(what: string): number {
    let v = 0
    for (let first = true; ; first = false) {
      if (this.pos >= this.bytes.length) throw new RbsrDecodeError(`truncated ${what}`)
      const b = this.bytes[this.pos++]!
      if (first && b === 0x80) throw new RbsrDecodeError(`${what}: varint with a leading zero digit`)
      const digit = b & 0x7f
      if (v > (RBSR_MAX_VARINT - digit) / 128) throw new RbsrDecodeError(`${what}: varint above 2^53`)
      v = v * 128 + digit
      if ((b & 0x80) === 0) return v
    }
  }
  /** A count of `unit`-byte things that must fit in what is left of the message. */
  count(unit: number, what: string): number {
    const n = this.varint(what)
    if (n * unit > this.left) throw new RbsrDecodeError(`${what} ${n} does not fit in the ${this.left} bytes left`)
    return n
  }
  bound(): RbsrBound {
    const code = this.varint('bound time')
    const length = this.varint('bound prefix length')
    if (length > RBSR_ID_BYTES) throw new RbsrDecodeError(`bound prefix of ${length} bytes`)
    if (code === 0) {
      if (length !== 0) throw new RbsrDecodeError('the end bound has an id prefix')
      return END_BOUND
    }
    const time = this.lastTime + code - 1
    if (time > Number.MAX_SAFE_INTEGER) throw new RbsrDecodeError(`bound time ${time} above 2^53 - 1`)
    this.lastTime = time
    return { time, prefix: this.take(length, 'bound prefix') }
  }
  ids(n: number): Uint8Array[] {
    const out: Uint8Array[] = []
    for (let i = 0; i < n; i++) out.push(this.take(RBSR_LIST_ID_BYTES, 'id'))
    return out
  }
  bitmap(what: string): [number, Uint8Array] {
    const bits = this.varint(what)
    const bytes = Math.ceil(bits / 8)
    if (bytes > this.left) throw new RbsrDecodeError(`${what}: ${bits} bits do not fit in the ${this.left} bytes left`)
    const map = this.take(bytes, what)
    if (bits % 8 !== 0 && map[bytes - 1]! >> bits % 8 !== 0) throw new RbsrDecodeError(`${what}: padding bits set`)
    return [bits, map]
  }
}

/**
 * Decodes and validates a message of at most `maxBytes`: the version, bounds strictly ascending
 * (times at most 2^53 - 1, prefixes at most 16 bytes, the end bound only last), known modes, and
 * every count within the bytes left. Views into `bytes` (no copies). Work and memory are linear
 * in `bytes.length`.
 */
export function decodeRbsrMessage(bytes: Uint8Array, maxBytes: number): RbsrRange[] {
  if (bytes.length > maxBytes) throw new RbsrDecodeError(`message of ${bytes.length} bytes, above the ${maxBytes}-byte frame`)
  if (bytes.length === 0) throw new RbsrDecodeError('empty message')
  if (bytes[0] !== RBSR_VERSION) throw new RbsrDecodeError(`unknown version 0x${bytes[0]!.toString(16)}`)
  const r = new Reader(bytes)
  r.pos = 1
  const ranges: RbsrRange[] = []
  let previous = MIN_BOUND
  while (r.left > 0) {
    if (previous.time === Infinity) throw new RbsrDecodeError('a range after the end bound')
    const upper = r.bound()
    if (compareBounds(upper, previous) <= 0) throw new RbsrDecodeError('ranges out of order or empty')
    previous = upper
    const code = r.varint('mode')
    const mode = MODE_NAMES[code]
    switch (mode) {
      case 'skip':
        ranges.push({ upper, mode })
        break
      case 'fingerprint':
        ranges.push({ upper, mode, fingerprint: r.take(RBSR_FINGERPRINT_BYTES, 'fingerprint') })
        break
      case 'idList':
        ranges.push({ upper, mode, ids: r.ids(r.count(RBSR_LIST_ID_BYTES, 'id count')) })
        break
      case 'diff':
      case 'diffCount': {
        const [bits, lacking] = r.bitmap('diff bitmap')
        if (mode === 'diffCount') ranges.push({ upper, mode, bits, lacking, count: r.varint('diff count') })
        else ranges.push({ upper, mode, bits, lacking, ids: r.ids(r.count(RBSR_LIST_ID_BYTES, 'diff id count')) })
        break
      }
      default:
        throw new RbsrDecodeError(`unknown range mode ${code}`)
    }
  }
  return ranges
}
