import { MeshError } from '../errors.js'
import { binaryKey } from '../util/bytes.js'
import {
  END_BOUND,
  MIN_BOUND,
  RBSR_LIST_ID_BYTES,
  RBSR_TAIL_BYTES,
  RbsrDecodeError,
  RbsrReply,
  compareBounds,
  decodeRbsrMessage,
  listId,
  type RbsrBound,
  type RbsrRange,
} from './rbsr-codec.js'
import type { RbsrSnapshot, RbsrStore } from './rbsr-store.js'

/**
 * Range-based set reconciliation (after Meyer's RBSR and Negentropy; the byte layout is in
 * docs/protocol.md, "Anti-entropy: range-based set reconciliation"). Pure and synchronous: a
 * session turns the peer's message into the reply to send; the caller carries the bytes.
 *
 * Both sides split differing ranges until a range is small enough to send as ids; the side that
 * receives ids resolves the range at once (it learns both differences there) and answers with a
 * `diff`: a bitmap of the listed ids it lacks and its own extra ids (only their count when there
 * are more than `idListThreshold`). So at the end each side knows exactly the ids it holds that
 * the other lacks (`have`: what it must send), and the ids it lacks as far as they were listed
 * (`need`; `needUnlisted` counts the rest, which the peer knows it must send).
 *
 * A reply that would outgrow the frame answers what fits; the open ranges left over go back as
 * this side's fingerprints of their runs (the peer splits them again), or, when even those do not
 * fit, as one fingerprint of everything after. Whatever was learnt about a range that either side
 * reopens this way is forgotten and learnt again when it closes, so nothing is counted twice.
 */

export { RbsrStore, type RbsrItem } from './rbsr-store.js'
export { RbsrDecodeError } from './rbsr-codec.js'

export interface RbsrOptions {
  /** Largest message either way, bytes; a longer message from the peer is refused. Default 16 384. */
  frameBytes?: number
  /** Sub-ranges a differing range is split into. Default 16. */
  buckets?: number
  /** A range of at most this many items goes as its ids instead of being split. Default 32 (less if the frame is too small for 32 ids). */
  idListThreshold?: number
}

export const RBSR_DEFAULTS = Object.freeze({ frameBytes: 16_384, buckets: 16, idListThreshold: 32 })

function resolveOptions(options: RbsrOptions): Required<RbsrOptions> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as RbsrOptions
  const o = { ...RBSR_DEFAULTS, ...given }
  const bad = (name: string, want: string): never => {
    throw new MeshError('INVALID_ARGUMENT', `rbsr option ${name} must be ${want}`)
  }
  if (!Number.isSafeInteger(o.frameBytes) || o.frameBytes < 256) bad('frameBytes', 'an integer >= 256')
  if (!Number.isSafeInteger(o.buckets) || o.buckets < 2 || o.buckets > 1024) bad('buckets', 'an integer in [2, 1024]')
  const maxIds = Math.floor((o.frameBytes - 64 - RBSR_TAIL_BYTES) / RBSR_LIST_ID_BYTES) // an id list and its range fit any frame
  if (given.idListThreshold === undefined) o.idListThreshold = Math.min(o.idListThreshold, maxIds)
  if (!Number.isSafeInteger(o.idListThreshold) || o.idListThreshold < 1 || o.idListThreshold > maxIds) bad('idListThreshold', `an integer in [1, ${maxIds}]`)
  return o
}

/** What one side learnt about the range [lo, hi) when it was last closed. */
interface Knowledge {
  lo: RbsrBound
  hi: RbsrBound
  have: Uint8Array[]
  need: Uint8Array[]
  unlisted: number
}

function equal16(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false
  return true
}

export class RbsrSession {
  readonly #snap: RbsrSnapshot
  readonly #role: 'initiator' | 'responder'
  readonly #o: Required<RbsrOptions>
  #state: 'new' | 'waiting' | 'done' = 'new'
  /** Closed ranges, ascending and disjoint. */
  #known: Knowledge[] = []
  #learnt: { have: Uint8Array[]; need: Uint8Array[]; unlisted: number } | undefined
  #whole = true
  #since: number | undefined

  /** Reconciles a snapshot of `store` (later changes to the store do not affect the session). */
  constructor(store: RbsrStore, role: 'initiator' | 'responder', options: RbsrOptions = {}) {
    if (role !== 'initiator' && role !== 'responder') throw new MeshError('INVALID_ARGUMENT', `rbsr role must be 'initiator' or 'responder'`)
    this.#o = resolveOptions(options)
    this.#snap = store.snapshot()
    this.#role = role
  }

  /** False when the initiator reconciles only a tail of the order (its first message skips what comes before). */
  get whole(): boolean {
    return this.#whole
  }

  /**
   * A tail session: the time of its lower bound (every item it reconciles is at least this new;
   * the range before was skipped). Undefined for the whole set.
   */
  get since(): number | undefined {
    return this.#since
  }

  /** True once no message is expected: `have`, `need` and `needUnlisted` are final. */
  get done(): boolean {
    return this.#state === 'done'
  }
  /** Ids this side has and the peer lacks: what this side must send. Exact when done. */
  get have(): Uint8Array[] {
    return this.#collect().have.slice()
  }
  /** The list ids (`listId`: 8 bytes) of what the peer has and this side lacks, as far as the peer (or this side) listed them. */
  get need(): Uint8Array[] {
    return this.#collect().need.slice()
  }
  /** How many more ids the peer has and this side lacks, that the peer knows but did not list. */
  get needUnlisted(): number {
    return this.#collect().unlisted
  }

  /**
   * The first message (initiator only, once). `tail`: reconcile only this side's newest `tail`
   * items and whatever the peer holds from the same point of the order on (the range before is
   * skipped); the whole set when omitted or when the set is no larger. `opening`: 'split' sends
   * the range's buckets at once; 'probe' sends one fingerprint of it, which costs a round trip
   * more when the sides differ and about 1/16 of the bytes when they do not.
   */
  initiate(tail?: number, opening: 'split' | 'probe' = 'split'): Uint8Array {
    if (this.#role !== 'initiator' || this.#state !== 'new') throw new MeshError('INVALID_ARGUMENT', 'initiate() is for a new initiator session only')
    if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 1)) throw new MeshError('INVALID_ARGUMENT', 'rbsr tail must be a positive integer')
    const reply = new RbsrReply(this.#o.frameBytes)
    const size = this.#snap.size
    const from = tail === undefined || tail >= size ? 0 : size - tail
    if (from > 0) {
      const bound = this.#snap.boundBefore(from)
      reply.skip(bound, from)
      this.#whole = false
      this.#since = bound.time
    }
    if (opening === 'probe' && size - from > this.#o.idListThreshold) reply.add({ upper: END_BOUND, mode: 'fingerprint', fingerprint: this.#snap.fingerprint(from, size) }, size, 0)
    else if (!this.#split(reply, from, size, END_BOUND, 0)) reply.cut(this.#snap.fingerprint(reply.endIndex, size))
    this.#state = 'waiting'
    return reply.bytes()
  }

  /**
   * The peer's message in, the reply out: undefined when there is nothing to send (then `done`).
   * A reply can also end the session (`done` after it): it closes every range, needing no answer.
   * Throws RbsrDecodeError (code RBSR_MALFORMED) for a malformed or unexpected message, and
   * then changes nothing. Work is O(message + items in the ranges it names). A peer can keep a
   * session going with valid messages: the caller bounds its rounds or time.
   */
  receive(message: Uint8Array): Uint8Array | undefined {
    if (this.#state === 'new' && this.#role === 'initiator') throw new MeshError('INVALID_ARGUMENT', 'call initiate() first')
    if (this.#state === 'done') throw new RbsrDecodeError('a message after the reconciliation finished')
    const ranges = decodeRbsrMessage(message, this.#o.frameBytes)
    if (this.#state === 'new' && ranges[0]?.mode === 'skip') {
      this.#whole = false
      this.#since = ranges[0].upper.time
    }
    const snap = this.#snap
    const reply = new RbsrReply(this.#o.frameBytes)
    const fresh: Knowledge[] = []
    const forget: [RbsrBound, RbsrBound][] = []
    const reserve = this.#o.frameBytes >> 3 // kept for deferring what does not fit
    let asked = false
    /** Once the frame is nearly full: where the run of open ranges left unanswered begins. */
    let deferring = false
    let deferFrom: { bound: RbsrBound; index: number } | undefined
    let full = false
    let lower = MIN_BOUND
    let lowerIndex = 0
    for (const r of ranges) {
      const upperIndex = snap.lowerBound(r.upper)
      const same = r.mode === 'fingerprint' && equal16(snap.fingerprint(lowerIndex, upperIndex), r.fingerprint)
      if (r.mode === 'fingerprint' || r.mode === 'idList') {
        asked = true
        forget.push([lower, r.upper])
      }
      if (r.mode === 'skip' || r.mode === 'diff' || r.mode === 'diffCount' || same) {
        if (deferFrom !== undefined && !this.#defer(reply, deferFrom.index, lower, lowerIndex)) {
          full = true
          break
        }
        deferFrom = undefined
        if (r.mode === 'diff' || r.mode === 'diffCount') {
          fresh.push(this.#learn(r, lower, lowerIndex, upperIndex))
          forget.push([lower, r.upper])
        }
        reply.skip(r.upper, upperIndex)
      } else if (deferring) {
        deferFrom ??= { bound: lower, index: lowerIndex }
      } else if (!(r.mode === 'fingerprint' ? this.#split(reply, lowerIndex, upperIndex, r.upper, reserve) : this.#answer(reply, r.ids, lower, r.upper, lowerIndex, upperIndex, reserve, fresh))) {
        // The rest of this range and the open ranges after it go back as fingerprints of runs.
        deferring = true
        deferFrom = { bound: reply.end, index: reply.endIndex }
      }
      lower = r.upper
      lowerIndex = upperIndex
    }
    if (!full && deferFrom !== undefined) full = !this.#defer(reply, deferFrom.index, lower, lowerIndex)
    if (full) {
      // Not even that fits: everything from where the reply ends goes back as one fingerprint.
      forget.push([reply.end, END_BOUND])
      reply.cut(snap.fingerprint(reply.endIndex, snap.size))
    }
    this.#commit(forget, fresh)
    this.#state = reply.open ? 'waiting' : 'done'
    return asked ? reply.bytes() : undefined
  }

  /** This side's fingerprint of items [from, upperIndex), up to `upper`: the peer splits it again. */
  #defer(reply: RbsrReply, from: number, upper: RbsrBound, upperIndex: number): boolean {
    return reply.add({ upper, mode: 'fingerprint', fingerprint: this.#snap.fingerprint(from, upperIndex) }, upperIndex, 0)
  }

  /** What a diff for items [lo, hi) tells this side (it listed those ids). */
  #learn(r: Extract<RbsrRange, { mode: 'diff' | 'diffCount' }>, lower: RbsrBound, lo: number, hi: number): Knowledge {
    if (r.bits !== hi - lo) throw new RbsrDecodeError(`a diff of ${r.bits} bits for a range of ${hi - lo} ids listed`)
    const have: Uint8Array[] = []
    for (let i = 0; i < r.bits; i++) if ((r.lacking[i >> 3]! >> (i & 7)) & 1) have.push(this.#snap.id(lo + i).slice())
    const need = r.mode === 'diff' ? r.ids.map((id) => id.slice()) : []
    return { lo: lower, hi: r.upper, have, need, unlisted: r.mode === 'diffCount' ? r.count : 0 }
  }

  /** Resolves the peer's id list for items [lo, hi) and answers with a diff; false if it does not fit. */
  #answer(reply: RbsrReply, ids: readonly Uint8Array[], lower: RbsrBound, upper: RbsrBound, lo: number, hi: number, reserve: number, fresh: Knowledge[]): boolean {
    const { lacking, have, need } = this.#resolve(lo, hi, ids)
    if (have.length === 0 && need.length === 0) {
      reply.skip(upper, hi) // the same ids on both sides: nothing to tell
      return true
    }
    const bits = ids.length
    // Extras are listed when no more than an id list would hold (the peer gets their entries anyway).
    const fits =
      (have.length <= this.#o.idListThreshold && reply.add({ upper, mode: 'diff', bits, lacking, ids: have.map(listId) }, hi, reserve)) ||
      reply.add({ upper, mode: 'diffCount', bits, lacking, count: have.length }, hi, reserve)
    if (fits) fresh.push({ lo: lower, hi: upper, have, need, unlisted: 0 })
    return fits
  }

  /** Fingerprints of `buckets` sub-ranges of items [lo, hi), or their ids when few; false when the frame filled. */
  #split(reply: RbsrReply, lo: number, hi: number, upper: RbsrBound, reserve: number): boolean {
    const snap = this.#snap
    const n = hi - lo
    if (n <= this.#o.idListThreshold) {
      const ids: Uint8Array[] = []
      for (let i = lo; i < hi; i++) ids.push(listId(snap.id(i)))
      return reply.add({ upper, mode: 'idList', ids }, hi, reserve)
    }
    // √n buckets for a small range: fewest bytes when about one difference is in it (k fingerprints, then n/k ids).
    const k = Math.min(this.#o.buckets, Math.max(2, Math.ceil(Math.sqrt(n))))
    const per = Math.floor(n / k)
    const extra = n % k
    let cur = lo
    for (let b = 0; b < k; b++) {
      const next = cur + per + (b < extra ? 1 : 0)
      const bound = next === hi ? upper : snap.boundBefore(next)
      if (!reply.add({ upper: bound, mode: 'fingerprint', fingerprint: snap.fingerprint(cur, next) }, next, reserve)) return false
      cur = next
    }
    return true
  }

  /** The peer listed the list ids `ids` for items [lo, hi): which of them this side lacks, and its own extras (whole ids). */
  #resolve(lo: number, hi: number, ids: readonly Uint8Array[]): { lacking: Uint8Array; have: Uint8Array[]; need: Uint8Array[] } {
    const snap = this.#snap
    const theirs = new Map<string, boolean>() // list id → this side has it
    for (const id of ids) theirs.set(binaryKey(id), false)
    const have: Uint8Array[] = []
    for (let i = lo; i < hi; i++) {
      const id = snap.id(i)
      if (theirs.size > 0) {
        const key = binaryKey(listId(id))
        if (theirs.has(key)) {
          theirs.set(key, true)
          continue
        }
      }
      have.push(id.slice())
    }
    const lacking = new Uint8Array(Math.ceil(ids.length / 8))
    const need: Uint8Array[] = []
    ids.forEach((id, i) => {
      const key = binaryKey(id)
      if (theirs.get(key) === true) return
      lacking[i >> 3]! |= 1 << (i & 7)
      if (theirs.delete(key)) need.push(id.slice()) // once, if listed twice
    })
    return { lacking, have, need }
  }

  /** Forgets what was known of ranges the peer or this side reopened, then adds what was learnt. */
  #commit(reopened: [RbsrBound, RbsrBound][], fresh: Knowledge[]): void {
    const forget: [RbsrBound, RbsrBound][] = []
    for (const [lo, hi] of reopened.sort((x, y) => compareBounds(x[0], y[0]))) {
      const last = forget[forget.length - 1]
      if (last !== undefined && compareBounds(lo, last[1]) <= 0) {
        if (compareBounds(hi, last[1]) > 0) last[1] = hi
      } else forget.push([lo, hi])
    }
    let j = 0
    const kept = this.#known.filter((k) => {
      while (j < forget.length && compareBounds(forget[j]![1], k.lo) <= 0) j++
      return !(j < forget.length && compareBounds(forget[j]![0], k.hi) < 0)
    })
    const merged: Knowledge[] = []
    let a = 0
    let b = 0
    while (a < kept.length || b < fresh.length) {
      if (b >= fresh.length || (a < kept.length && compareBounds(kept[a]!.lo, fresh[b]!.lo) < 0)) merged.push(kept[a++]!)
      else merged.push(fresh[b++]!)
    }
    this.#known = merged
    this.#learnt = undefined
  }

  #collect(): { have: Uint8Array[]; need: Uint8Array[]; unlisted: number } {
    if (this.#learnt === undefined) {
      const learnt = { have: [] as Uint8Array[], need: [] as Uint8Array[], unlisted: 0 }
      for (const k of this.#known) {
        for (const id of k.have) learnt.have.push(id)
        for (const id of k.need) learnt.need.push(id)
        learnt.unlisted += k.unlisted
      }
      this.#learnt = learnt
    }
    return this.#learnt
  }
}
