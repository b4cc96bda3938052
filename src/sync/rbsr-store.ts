import { sha256 } from '@noble/hashes/sha2.js'
import { MeshError } from '../errors.js'
import { RBSR_ID_BYTES, varintSize, type RbsrBound } from './rbsr-codec.js'

/**
 * The local set of a range-based set reconciliation (rbsr.ts), kept sorted by (time, id) in flat
 * typed arrays (24 bytes an item). Sessions read an immutable snapshot with prefix sums of the
 * ids, so a range's fingerprint costs O(1) plus one SHA-256 of at most 24 bytes.
 */

/** An item: `time` a safe integer ≥ 0 (ms), `id` 16 bytes. An id should determine its time. */
export interface RbsrItem {
  readonly time: number
  readonly id: Uint8Array
}

function check(item: RbsrItem): void {
  if (!Number.isSafeInteger(item.time) || item.time < 0) throw new MeshError('INVALID_ARGUMENT', `rbsr item time must be a safe integer >= 0, got ${String(item.time)}`)
  if (!(item.id instanceof Uint8Array) || item.id.length !== RBSR_ID_BYTES) throw new MeshError('INVALID_ARGUMENT', `rbsr item id must be ${RBSR_ID_BYTES} bytes`)
}

function compareItems(a: RbsrItem, b: RbsrItem): number {
  if (a.time !== b.time) return a.time - b.time
  for (let i = 0; i < RBSR_ID_BYTES; i++) if (a.id[i] !== b.id[i]) return a.id[i]! - b.id[i]!
  return 0
}

export class RbsrStore {
  #times: Float64Array
  #ids: Uint8Array
  #size = 0
  #snapshot: RbsrSnapshot | undefined

  /** The items in any order; duplicates are ignored. O(n log n), O(n) when already sorted. */
  constructor(items: Iterable<RbsrItem> = []) {
    const list = Array.isArray(items) ? (items as RbsrItem[]) : [...items]
    const n = list.length
    const times = new Float64Array(n)
    const ids = new Uint8Array(n * RBSR_ID_BYTES)
    const heads = new Uint32Array(n) // the first 4 id bytes, big-endian: most ties end here
    let sorted = true
    for (let i = 0; i < n; i++) {
      const item = list[i]!
      check(item)
      times[i] = item.time
      ids.set(item.id, i * RBSR_ID_BYTES)
      heads[i] = ((item.id[0]! << 24) | (item.id[1]! << 16) | (item.id[2]! << 8) | item.id[3]!) >>> 0
      if (sorted && i > 0 && compareItems(list[i - 1]!, item) > 0) sorted = false
    }
    const compare = (a: number, b: number): number => {
      if (times[a] !== times[b]) return times[a]! - times[b]!
      if (heads[a] !== heads[b]) return heads[a]! - heads[b]!
      for (let j = 4; j < RBSR_ID_BYTES; j++) {
        const d = ids[a * RBSR_ID_BYTES + j]! - ids[b * RBSR_ID_BYTES + j]!
        if (d !== 0) return d
      }
      return 0
    }
    let order = new Uint32Array(n)
    for (let i = 0; i < n; i++) order[i] = i
    if (!sorted) order = n < 1024 ? order.sort(compare) : radixOrder(times, heads, compare)
    this.#times = new Float64Array(Math.max(16, n))
    this.#ids = new Uint8Array(this.#times.length * RBSR_ID_BYTES)
    for (let k = 0; k < n; k++) {
      const i = order[k]!
      if (k > 0 && compare(order[k - 1]!, i) === 0) continue
      this.#times[this.#size] = times[i]!
      this.#ids.set(ids.subarray(i * RBSR_ID_BYTES, (i + 1) * RBSR_ID_BYTES), this.#size * RBSR_ID_BYTES)
      this.#size++
    }
  }

  get size(): number {
    return this.#size
  }

  /** Adds `item` (O(n) memory move); false if it was there already. */
  insert(item: RbsrItem): boolean {
    check(item)
    const [i, found] = this.#search(item)
    if (found) return false
    if (this.#size === this.#times.length) {
      const times = new Float64Array(this.#size * 2)
      times.set(this.#times)
      const ids = new Uint8Array(times.length * RBSR_ID_BYTES)
      ids.set(this.#ids)
      this.#times = times
      this.#ids = ids
    }
    this.#times.copyWithin(i + 1, i, this.#size)
    this.#ids.copyWithin((i + 1) * RBSR_ID_BYTES, i * RBSR_ID_BYTES, this.#size * RBSR_ID_BYTES)
    this.#times[i] = item.time
    this.#ids.set(item.id, i * RBSR_ID_BYTES)
    this.#size++
    this.#snapshot = undefined
    return true
  }

  /** Removes `item`; false if it was not there. */
  remove(item: RbsrItem): boolean {
    check(item)
    const [i, found] = this.#search(item)
    if (!found) return false
    this.#times.copyWithin(i, i + 1, this.#size)
    this.#ids.copyWithin(i * RBSR_ID_BYTES, (i + 1) * RBSR_ID_BYTES, this.#size * RBSR_ID_BYTES)
    this.#size--
    this.#snapshot = undefined
    return true
  }

  has(item: RbsrItem): boolean {
    check(item)
    return this.#search(item)[1]
  }

  /** The current items, frozen: later changes to the store do not affect it. O(n) after a change. */
  snapshot(): RbsrSnapshot {
    this.#snapshot ??= new RbsrSnapshot(this.#times.slice(0, this.#size), this.#ids.slice(0, this.#size * RBSR_ID_BYTES))
    return this.#snapshot
  }

  /** The index of the first item not before `item`, and whether it is `item`. */
  #search(item: RbsrItem): [number, boolean] {
    let lo = 0
    let hi = this.#size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#compareAt(mid, item) < 0) lo = mid + 1
      else hi = mid
    }
    return [lo, lo < this.#size && this.#compareAt(lo, item) === 0]
  }

  #compareAt(i: number, item: RbsrItem): number {
    const t = this.#times[i]!
    if (t !== item.time) return t - item.time
    const base = i * RBSR_ID_BYTES
    for (let j = 0; j < RBSR_ID_BYTES; j++) {
      const d = this.#ids[base + j]! - item.id[j]!
      if (d !== 0) return d
    }
    return 0
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** The 32-bit little-endian words of `bytes` (on a big-endian platform). */
function leWords(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Uint32Array(bytes.length / 4)
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true)
  return out
}

/**
 * The order of items by (time, first 4 id bytes): an LSD radix sort, 16 bits a pass (a pass whose
 * digits are all equal is skipped); runs that tie on both are then sorted by `compare`.
 */
function radixOrder(times: Float64Array, heads: Uint32Array, compare: (a: number, b: number) => number): Uint32Array<ArrayBuffer> {
  const n = times.length
  const words = new Uint32Array(n * 3) // time high 21 bits, time low 32 bits, head
  for (let i = 0; i < n; i++) {
    words[i * 3] = Math.floor(times[i]! / 2 ** 32)
    words[i * 3 + 1] = times[i]! % 2 ** 32
    words[i * 3 + 2] = heads[i]!
  }
  let order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  let next = new Uint32Array(n)
  const counts = new Uint32Array(65536)
  for (let w = 2; w >= 0; w--) {
    for (const shift of [0, 16]) {
      counts.fill(0)
      for (let i = 0; i < n; i++) counts[(words[i * 3 + w]! >>> shift) & 0xffff]!++
      if (counts[(words[w]! >>> shift) & 0xffff] === n) continue
      for (let d = 0, sum = 0; d < 65536; d++) {
        const c = counts[d]!
        counts[d] = sum
        sum += c
      }
      for (let i = 0; i < n; i++) {
        const idx = order[i]!
        next[counts[(words[idx * 3 + w]! >>> shift) & 0xffff]!++] = idx
      }
      ;[order, next] = [next, order]
    }
  }
  for (let start = 0; start < n; ) {
    let end = start + 1
    const a = order[start]!
    while (end < n && times[order[end]!] === times[a] && heads[order[end]!] === heads[a]) end++
    if (end - start > 1) order.subarray(start, end).sort(compare)
    start = end
  }
  return order
}

/** Sorted items and the running sums of their ids (mod 2^128, four 32-bit little-endian limbs). */
export class RbsrSnapshot {
  readonly size: number
  readonly #times: Float64Array
  readonly #ids: Uint8Array
  readonly #sums: Uint32Array

  constructor(times: Float64Array, ids: Uint8Array) {
    this.size = times.length
    this.#times = times
    this.#ids = ids
    const sums = new Uint32Array((this.size + 1) * 4)
    const words = LITTLE_ENDIAN ? new Uint32Array(ids.buffer, ids.byteOffset, ids.byteLength / 4) : leWords(ids)
    for (let i = 0, w = 0; i < this.size; i++) {
      let carry = 0
      for (let j = 0; j < 4; j++, w++) {
        const s = sums[w]! + words[w]! + carry
        sums[w + 4] = s
        carry = s > 0xffffffff ? 1 : 0
      }
    }
    this.#sums = sums
  }

  time(i: number): number {
    return this.#times[i]!
  }

  /** A view of item i's id (the snapshot never changes; do not write to it). */
  id(i: number): Uint8Array {
    return this.#ids.subarray(i * RBSR_ID_BYTES, (i + 1) * RBSR_ID_BYTES)
  }

  /** The index of the first item at or after `bound` (size if none). */
  lowerBound(bound: RbsrBound): number {
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#before(mid, bound)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  #before(i: number, bound: RbsrBound): boolean {
    const t = this.#times[i]!
    if (t !== bound.time) return t < bound.time
    const base = i * RBSR_ID_BYTES
    for (let j = 0; j < bound.prefix.length; j++) {
      const d = this.#ids[base + j]! - bound.prefix[j]!
      if (d !== 0) return d < 0
    }
    return false // the bound's missing bytes are zeros: the item is not before it
  }

  /** The shortest bound above item i - 1 and at or below item i (0 < i < size). */
  boundBefore(i: number): RbsrBound {
    const t = this.#times[i]!
    if (this.#times[i - 1] !== t) return { time: t, prefix: new Uint8Array(0) }
    const a = this.id(i - 1)
    const b = this.id(i)
    let common = 0
    while (a[common] === b[common]) common++
    return { time: t, prefix: b.slice(0, common + 1) }
  }

  /** The first 16 bytes of SHA-256(sum of the ids of items [lo, hi) mod 2^128, 16 bytes LE ‖ varint(hi - lo)). */
  fingerprint(lo: number, hi: number): Uint8Array {
    const count = hi - lo
    const size = varintSize(count)
    const input = new Uint8Array(16 + size)
    const view = new DataView(input.buffer)
    let borrow = 0
    for (let j = 0; j < 4; j++) {
      let d = this.#sums[hi * 4 + j]! - this.#sums[lo * 4 + j]! - borrow
      borrow = d < 0 ? 1 : 0
      if (d < 0) d += 2 ** 32
      view.setUint32(j * 4, d, true)
    }
    let n = count
    for (let i = size - 1; i >= 0; i--) {
      input[16 + i] = (n % 128) | (i === size - 1 ? 0 : 0x80)
      n = Math.floor(n / 128)
    }
    return sha256(input).subarray(0, 16)
  }
}
