import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '../util/bytes.js'
import { Prng } from '../testing/prng.js'
import { listId } from './rbsr-codec.js'
import { RBSR_DEFAULTS, RbsrSession, RbsrStore, type RbsrItem, type RbsrOptions } from './rbsr.js'

// Range-based set reconciliation: two stores reconcile to exactly their set differences, within
// the frame, in few round trips. Hostile input: rbsr-codec.test.ts.

const T = 1_700_000_000_000
const key = (id: Uint8Array): string => toHex(id)
const keys = (ids: readonly Uint8Array[]): string[] => ids.map(key).sort()

function randomItems(n: number, rng: Prng, spreadMs = 86_400_000): RbsrItem[] {
  const out: RbsrItem[] = []
  for (let i = 0; i < n; i++) out.push({ time: T + rng.int(spreadMs), id: rng.bytes(16) })
  return out
}

interface Outcome {
  initiator: RbsrSession
  responder: RbsrSession
  sizes: number[]
  bytes: number
  /** Round trips: messages from the initiator (the last may be a one-way close). */
  rounds: number
}

/** Runs one reconciliation to its end, checking every message against the frame. */
function reconcile(a: RbsrStore | Iterable<RbsrItem>, b: RbsrStore | Iterable<RbsrItem>, options: RbsrOptions = {}, tail?: number, opening: 'split' | 'probe' = 'split'): Outcome {
  const frame = options.frameBytes ?? RBSR_DEFAULTS.frameBytes
  const store = (x: RbsrStore | Iterable<RbsrItem>): RbsrStore => (x instanceof RbsrStore ? x : new RbsrStore(x))
  const initiator = new RbsrSession(store(a), 'initiator', options)
  const responder = new RbsrSession(store(b), 'responder', options)
  const sizes: number[] = []
  let msg: Uint8Array | undefined = initiator.initiate(tail, opening)
  let to = responder
  while (msg !== undefined) {
    sizes.push(msg.length)
    expect(msg.length).toBeLessThanOrEqual(frame)
    if (sizes.length > 10_000) throw new Error('no end in sight')
    const receiver: RbsrSession = to
    msg = receiver.receive(msg)
    to = receiver === responder ? initiator : responder
  }
  expect(initiator.done && responder.done).toBe(true)
  return { initiator, responder, sizes, bytes: sizes.reduce((x, y) => x + y, 0), rounds: Math.ceil(sizes.length / 2) }
}

/** have is exactly mine minus theirs; need is part of theirs minus mine, with the rest counted. */
function expectDifferences(o: Outcome, a: readonly RbsrItem[], b: readonly RbsrItem[], needListed = false): void {
  const ka = new Set(a.map((x) => key(x.id)))
  const kb = new Set(b.map((x) => key(x.id)))
  expectKnown(o, [...ka].filter((k) => !kb.has(k)), [...kb].filter((k) => !ka.has(k)), needListed)
}

/** `need` holds list ids (8 bytes): what the peer listed. */
function expectKnown(o: Outcome, aOnly: string[], bOnly: string[], needListed: boolean): void {
  const listed = (hex: string[]): string[] => hex.map((k) => key(listId(fromHex(k)))).sort()
  for (const [side, mine, theirIds] of [[o.initiator, aOnly.sort(), bOnly.sort()], [o.responder, bOnly, aOnly]] as const) {
    expect(keys(side.have)).toEqual(mine)
    const theirs = listed(theirIds)
    const need = keys(side.need)
    expect(new Set(need).size).toBe(need.length)
    for (const k of need) expect(theirs).toContain(k)
    expect(need.length + side.needUnlisted).toBe(theirs.length)
    if (needListed) expect(need).toEqual(theirs)
  }
}

/** A universe of items, each given to A, B or both; times and ids drawn to collide often. */
const itemArb = fc.record({
  time: fc.oneof(fc.constantFrom(0, T, T + 1, Number.MAX_SAFE_INTEGER), fc.integer({ min: T, max: T + 50 }), fc.maxSafeNat()),
  id: fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16, max: 2 })),
})
/** `shared` weighs how often an item is on both sides against on one side only. */
const splitArb = (maxLength: number, shared = 1) =>
  fc
    .uniqueArray(itemArb, { maxLength, size: 'max', selector: (x) => key(x.id) })
    .chain((universe) => {
      const where = fc.oneof({ weight: shared, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constantFrom(0, 1) })
      return fc.tuple(fc.constant(universe), fc.array(where, { minLength: universe.length, maxLength: universe.length }))
    })
    .map(([universe, where]) => ({
      a: universe.filter((_, i) => where[i] !== 1),
      b: universe.filter((_, i) => where[i] !== 0),
    }))

describe('RbsrSession', () => {
  it('ends with have = exactly the set differences, on both sides, every message within the frame (random sets, small frames, either opening)', () => {
    const optionsArb = fc.record({
      frameBytes: fc.integer({ min: 256, max: 2048 }),
      buckets: fc.integer({ min: 2, max: 16 }),
      idListThreshold: fc.integer({ min: 1, max: 9 }),
    })
    fc.assert(
      fc.property(splitArb(600), optionsArb, fc.constantFrom('split' as const, 'probe' as const), ({ a, b }, options, opening) => {
        expectDifferences(reconcile(a, b, options, undefined, opening), a, b)
      }),
      { numRuns: 200 },
    )
  })

  it('a probe finds two equal sets of 10 000 equal in two messages of a few bytes', () => {
    const items = randomItems(10_000, new Prng(9))
    const split = reconcile(items, items.slice().reverse())
    const probed = reconcile(items, items.slice().reverse(), {}, undefined, 'probe')
    const tail = reconcile(items, items.slice().reverse(), {}, 625, 'probe')
    console.warn(`rbsr equal N=10000: split ${split.bytes} bytes, probe ${probed.bytes} bytes, tail 625 probe ${tail.bytes} bytes`)
    expect(probed.sizes.length).toBe(2)
    expect(probed.bytes).toBeLessThan(40)
    expect(tail.sizes.length).toBe(2)
    expect(tail.bytes).toBeLessThan(60)
    expect(split.bytes).toBeGreaterThan(10 * probed.bytes)
    for (const o of [probed, tail]) expect([o.initiator.have, o.initiator.need, o.responder.have, o.responder.need].every((x) => x.length === 0)).toBe(true)
  })

  it('with the defaults, lists every needed id too when each side has at most idListThreshold extras', () => {
    const only = (x: RbsrItem[], y: RbsrItem[]): number => {
      const ys = new Set(y.map((i) => key(i.id)))
      return x.filter((i) => !ys.has(key(i.id))).length
    }
    const few = ({ a, b }: { a: RbsrItem[]; b: RbsrItem[] }): boolean => only(a, b) <= 32 && only(b, a) <= 32
    fc.assert(
      fc.property(splitArb(300, 20).filter(few), ({ a, b }) => expectDifferences(reconcile(a, b), a, b, true)),
      { numRuns: 100 },
    )
  })

  it('handles the edge cases: both empty, one item, identical, disjoint, one side empty', () => {
    const rng = new Prng(7)
    const one = randomItems(1, rng)
    const some = randomItems(500, rng)
    const other = randomItems(500, rng)
    const cases: [string, RbsrItem[], RbsrItem[]][] = [
      ['both empty', [], []],
      ['one item vs empty', one, []],
      ['empty vs one item', [], one],
      ['one item each, same', one, one],
      ['identical', some, some],
      ['disjoint', some, other],
      ['overlapping', [...some, ...other.slice(0, 250)], [...other, ...some.slice(100)]],
      ['500 vs empty', some, []],
      ['empty vs 500', [], some],
    ]
    for (const [, a, b] of cases) expectDifferences(reconcile(a, b), a, b)
    expect(reconcile([], []).sizes).toEqual([5, 1]) // an empty id list, and an empty answer
    expect(reconcile(some, some).rounds).toBe(1)
  })

  it('reconciles times up to 2^53 - 1 and ids that share long prefixes at one time', () => {
    const rng = new Prng(3)
    const prefix = rng.bytes(15)
    const same = Array.from({ length: 200 }, (_, i) => ({ time: Number.MAX_SAFE_INTEGER - (i % 3), id: Uint8Array.of(...prefix, i) }))
    const a = same.filter((_, i) => i % 7 !== 0)
    const b = same.filter((_, i) => i % 11 !== 0)
    expectDifferences(reconcile(a, b, { idListThreshold: 2, buckets: 4 }), a, b, true)
  })

  it('keeps its snapshot while the store changes, and sees the changes in the next session', () => {
    const rng = new Prng(11)
    const items = randomItems(100, rng)
    const store = new RbsrStore(items)
    const peer = new RbsrStore(items)
    const extra = randomItems(1, rng)[0]!
    const initiator = new RbsrSession(store, 'initiator')
    const responder = new RbsrSession(peer, 'responder')
    const first = initiator.initiate()
    expect(store.insert(extra)).toBe(true)
    expect(store.insert(extra)).toBe(false) // duplicates ignored
    expect(store.size).toBe(101)
    expect(initiator.receive(responder.receive(first)!)).toBeUndefined()
    expect(initiator.have).toEqual([])
    const again = reconcile([], [])
    expect(again.initiator.done).toBe(true)
    const next = new RbsrSession(store, 'initiator')
    const peerSide = new RbsrSession(peer, 'responder')
    let msg: Uint8Array | undefined = next.initiate()
    for (let turn = 0; msg !== undefined; turn++) msg = (turn % 2 === 0 ? peerSide : next).receive(msg)
    expect(keys(next.have)).toEqual([key(extra.id)])
    expect(store.remove(extra)).toBe(true)
    expect(store.remove(extra)).toBe(false)
    expect(store.size).toBe(100)
  })

  it('sorts and dedupes big unsorted inputs by (time, id bytes), ties on the first id bytes included', () => {
    const rng = new Prng(9)
    const items = Array.from({ length: 5_000 }, () => {
      const id = rng.bytes(16)
      if (rng.chance(0.5)) id.fill(0, 0, 4 + rng.int(12))
      return { time: rng.pick([0, T, T + 1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]), id }
    })
    const input = rng.shuffle([...items, ...items.slice(0, 700)])
    const snap = new RbsrStore(input).snapshot()
    const want = [...new Map(items.map((x) => [`${String(x.time).padStart(16, '0')}:${key(x.id)}`, x])).keys()].sort()
    const got = Array.from({ length: snap.size }, (_, i) => `${String(snap.time(i)).padStart(16, '0')}:${key(snap.id(i))}`)
    expect(got).toEqual(want)
  })

  it('fingerprints are SHA-256 of the id sum mod 2^128 and the count, from the prefix sums', async () => {
    const { sha256 } = await import('@noble/hashes/sha2.js')
    const rng = new Prng(5)
    const items = randomItems(300, rng).map((x, i) => (i % 5 === 0 ? { ...x, id: new Uint8Array(16).fill(0xff) } : x))
    const snap = new RbsrStore(items).snapshot()
    const le = (id: Uint8Array): bigint => BigInt('0x' + toHex(id.slice().reverse()))
    for (const [lo, hi] of [[0, 0], [0, snap.size], [3, 130], [130, 131]] as const) {
      let sum = 0n
      for (let i = lo; i < hi; i++) sum = (sum + le(snap.id(i))) % (1n << 128n)
      const bytes = new Uint8Array(16)
      for (let j = 0; j < 16; j++) bytes[j] = Number((sum >> BigInt(8 * j)) & 0xffn)
      const count = hi - lo < 128 ? [hi - lo] : [0x80 | ((hi - lo) >> 7), (hi - lo) & 0x7f]
      expect(toHex(snap.fingerprint(lo, hi))).toBe(toHex(sha256(Uint8Array.of(...bytes, ...count)).subarray(0, 16)))
    }
  })
})

describe('RbsrSession costs (measured numbers printed)', () => {
  /** N shared items; d more split between the two sides, spread over the same day. */
  function scenario(n: number, d: number, seed: number): { a: RbsrItem[]; b: RbsrItem[]; aOnly: string[]; bOnly: string[] } {
    const rng = new Prng(seed)
    const shared = randomItems(n, rng)
    const a = shared.slice()
    const b = shared.slice()
    const aOnly: string[] = []
    const bOnly: string[] = []
    for (const [i, item] of randomItems(d, rng).entries()) {
      ;(i % 2 === 0 ? a : b).push(item)
      ;(i % 2 === 0 ? aOnly : bOnly).push(key(item.id))
    }
    return { a, b, aOnly, bOnly }
  }
  const report = (label: string, o: Outcome, ms: number): void =>
    console.warn(`rbsr ${label}: ${o.rounds} round trips, ${o.sizes.length} messages, ${o.bytes} bytes (largest ${Math.max(...o.sizes)}), ${ms.toFixed(0)} ms`)

  it('N = 10 000, d = 10 spread: under 8 KB and at most 6 round trips; every difference listed', () => {
    const { a, b, aOnly, bOnly } = scenario(10_000, 10, 1)
    const t0 = performance.now()
    const o = reconcile(a, b)
    report('N=10000 d=10', o, performance.now() - t0)
    expectKnown(o, aOnly, bOnly, true)
    expect(o.bytes).toBeLessThan(8 * 1024)
    expect(o.rounds).toBeLessThanOrEqual(6)
  })

  it('N = 10 000, d = 1: under 2 KB, at most 3 round trips', () => {
    const { a, b, aOnly, bOnly } = scenario(10_000, 1, 2)
    const t0 = performance.now()
    const o = reconcile(a, b)
    report('N=10000 d=1', o, performance.now() - t0)
    expectKnown(o, aOnly, bOnly, true)
    expect(o.bytes).toBeLessThan(2 * 1024)
    expect(o.rounds).toBeLessThanOrEqual(3)
  })

  it('N = 100 000, d = 1: under 4 KB, at most 3 round trips (time: bench/rbsr.bench.ts)', () => {
    const { a, b, aOnly, bOnly } = scenario(100_000, 1, 3)
    const t0 = performance.now()
    const storeA = new RbsrStore(a)
    const storeB = new RbsrStore(b)
    const t1 = performance.now()
    const o = reconcile(storeA, storeB)
    const ms = performance.now() - t1
    report('N=100000 d=1', o, ms)
    console.warn(`rbsr N=100000: the two stores built (sorted) in ${(t1 - t0).toFixed(0)} ms`)
    expectKnown(o, aOnly, bOnly, true)
    expect(o.bytes).toBeLessThan(4 * 1024)
    expect(o.rounds).toBeLessThanOrEqual(3)
  })

  it('one side empty: the side with the items knows all it must send after one round trip', () => {
    const { a } = scenario(10_000, 0, 4)
    // The initiator is empty: its empty id list is answered with a count; two messages in all.
    const pull = reconcile([], a)
    report('empty initiator vs N=10000', pull, 0)
    expect(pull.sizes.length).toBe(2)
    expect(pull.responder.have.length).toBe(10_000)
    expect(pull.initiator.needUnlisted).toBe(10_000)
    // The responder is empty: it answers the fingerprints with empty id lists; the initiator knows
    // on that reply, and its closing message (one way) tells the responder how many will come.
    const initiator = new RbsrSession(new RbsrStore(a), 'initiator')
    const responder = new RbsrSession(new RbsrStore([]), 'responder')
    const reply = responder.receive(initiator.initiate())!
    const close = initiator.receive(reply)
    expect(initiator.done).toBe(true)
    expect(initiator.have.length).toBe(10_000)
    expect(close).toBeDefined()
    expect(responder.receive(close!)).toBeUndefined()
    expect(responder.needUnlisted).toBe(10_000)
    const push = reconcile(a, [])
    report('N=10000 vs empty responder', push, 0)
    expect(push.rounds).toBe(2) // 2 requests, the second is the one-way close
    expect(push.bytes).toBeLessThan(1024)
  })

  it('a heal: a tail session finds the new states for a fraction of the bytes; the whole set is then one round trip', () => {
    // Two replicas of 10 000 keys (one item per key: its newest write time and state digest)
    // each change 50 of them while apart: each side holds 50 new items at the end of the order,
    // and lacks the other's 50, whose old items it still holds spread over the whole day.
    const rng = new Prng(5)
    const shared = randomItems(10_000, rng)
    const late = T + 86_400_000
    const changed = (from: number): [RbsrItem[], RbsrItem[]] => {
      const olds = shared.slice(from, from + 50)
      return [olds, olds.map((_, i) => ({ time: late + rng.int(5_000) + i, id: rng.bytes(16) }))]
    }
    const [oldA, newA] = changed(0)
    const [oldB, newB] = changed(5_000)
    const a = [...shared.filter((x) => !oldA.includes(x)), ...newA]
    const b = [...shared.filter((x) => !oldB.includes(x)), ...newB]
    const whole = reconcile(a, b)
    const tail = reconcile(a, b, {}, 625)
    report('heal N=10000 50+50 changed, whole', whole, 0)
    report('heal N=10000 50+50 changed, tail 625', tail, 0)
    // The whole set: the 100 new items and the 100 old ones they replace.
    expectDifferences(whole, a, b)
    expect(whole.initiator.have.length).toBe(100)
    expect([whole.initiator.whole, whole.responder.whole, tail.initiator.whole, tail.responder.whole]).toEqual([true, true, false, false])
    // Both sides of the tail know where it starts: the time of the initiator's 625th newest item.
    const start = [...a].sort((x, y) => x.time - y.time)[a.length - 625]!.time
    expect([tail.initiator.since, tail.responder.since, whole.initiator.since, whole.responder.since]).toEqual([start, start, undefined, undefined])
    for (const x of [...tail.initiator.have, ...tail.responder.have]) expect(a.concat(b).find((y) => key(y.id) === key(x))!.time).toBeGreaterThanOrEqual(start)
    // The tail: every new item, both ways (and only those old items that sit in the tail), for
    // under a quarter of the bytes.
    const probed = reconcile(a, b, {}, 625, 'probe')
    report('heal N=10000 50+50 changed, tail 625 opened by a probe', probed, 0)
    expect(keys(probed.initiator.have)).toEqual(keys(tail.initiator.have))
    expect(keys(probed.responder.have)).toEqual(keys(tail.responder.have))
    expect(probed.rounds).toBeLessThanOrEqual(tail.rounds + 1)
    for (const [side, mine, replaced] of [[tail.initiator, newA, oldB], [tail.responder, newB, oldA]] as const) {
      const have = new Set(keys(side.have))
      for (const x of mine) expect(have.has(key(x.id))).toBe(true)
      const extra = [...have].filter((k) => !mine.some((x) => key(x.id) === k))
      expect(extra.every((k) => replaced.some((x) => key(x.id) === k))).toBe(true)
      expect(extra.length).toBeLessThan(10)
    }
    expect(tail.bytes).toBeLessThan(whole.bytes / 4)
    // Once each side merged the other's new states (their old items replaced), one round trip.
    const healed = [...shared.filter((x) => !oldA.includes(x) && !oldB.includes(x)), ...newA, ...newB]
    const after = reconcile(healed, healed.slice().reverse())
    expect(after.sizes.length).toBe(2)
  })

  it('many differences in small frames: more round trips, never a larger message', () => {
    const { a, b, aOnly, bOnly } = scenario(3_000, 600, 6)
    const o = reconcile(a, b, { frameBytes: 1024 })
    report('N=3000 d=600 in 1 KiB frames', o, 0)
    expectKnown(o, aOnly, bOnly, false)
    expect(Math.max(...o.sizes)).toBeLessThanOrEqual(1024)
  })
})

describe('docs/protocol.md, "Anti-entropy: range-based set reconciliation"', () => {
  it('the worked example is what the sessions send, byte for byte', () => {
    const text = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8')
    const section = text.slice(text.indexOf('## Anti-entropy: range-based set reconciliation'))
    const example = section.slice(section.indexOf('### Example'), section.indexOf('### Costs'))
    // Each fenced block is one message: per line, the hex before the first run of 2+ spaces.
    const documented = [...example.matchAll(/```\n([\s\S]*?)```/g)].map((m) =>
      m[1]!.trim().split('\n').map((line) => line.split(/\s{2,}/)[0]!.replace(/ /g, '')).join(''),
    )
    const id = (...head: number[]): Uint8Array => {
      const out = new Uint8Array(16).fill(head[head.length - 1]!)
      out.set(head.slice(0, -1))
      return out
    }
    const [a, b, c, d, e, f] = [[0, id(0x11)], [0, id(0x22)], [300, id(0x33)], [300, id(0x3a, 0x00, 0xdd)], [300, id(0x3a, 0x5e, 0xee)], [500, id(0x44)]].map(
      ([dt, x]) => ({ time: T + (dt as number), id: x as Uint8Array }),
    ) as [RbsrItem, RbsrItem, RbsrItem, RbsrItem, RbsrItem, RbsrItem]
    const initiator = new RbsrSession(new RbsrStore([a, b, c, d, e]), 'initiator', { idListThreshold: 4 })
    const responder = new RbsrSession(new RbsrStore([a, b, c, d, f]), 'responder', { idListThreshold: 4 })
    const m1 = initiator.initiate()
    const m2 = responder.receive(m1)!
    const m3 = initiator.receive(m2)!
    expect(initiator.done).toBe(true)
    expect(responder.receive(m3)).toBeUndefined()
    expect(documented).toEqual([m1, m2, m3].map(toHex))
    expect([m1.length, m2.length, m3.length]).toEqual([65, 23, 25])
    expect([keys(initiator.have), keys(initiator.need), keys(responder.have), keys(responder.need)]).toEqual([[key(e.id)], [key(listId(f.id))], [key(f.id)], [key(listId(e.id))]])
  })
})
