import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { EMPTY_KEY, insertWrite, leaseEnd, mergeKeys, resolve, keyStateDigest, type KeyState, type SyncRules } from './key-state.js'
import { writeStatement, type Write, type WriteKind } from './write.js'

const RULES: SyncRules = { leasing: true, leaseMs: 1_000, maxDriftMs: 100, maxHistory: 32 }
const LWW: SyncRules = { ...RULES, leasing: false }

function w(kind: WriteKind, ms: number, writer: string, value?: unknown, counter = 0): Write {
  return value === undefined ? { kind, stamp: { ms, counter }, writer } : { kind, stamp: { ms, counter }, writer, value }
}

function build(writes: Write[], rules = RULES): KeyState {
  let key = EMPTY_KEY
  for (const x of writes) key = insertWrite(key, x, rules).key
  return key
}

/** What a replica shows, without the list of refused writes' identities. */
function shown(key: KeyState, rules = RULES) {
  const r = resolve(key, rules)
  return { value: r.value, owner: r.owner, end: leaseEnd(r, rules), gen: r.gen, stamp: r.stamp, writer: r.writer, refused: r.refused.length }
}

const arbWrite = fc.record({
  kind: fc.constantFrom<WriteKind>('set', 'set', 'delete', 'delta', 'release'),
  ms: fc.integer({ min: 0, max: 5_000 }),
  counter: fc.integer({ min: 0, max: 2 }),
  writer: fc.constantFrom('A', 'B', 'C'),
  n: fc.integer({ min: 0, max: 9 }),
  field: fc.constantFrom('x', 'y', 'z'),
})
const toWrite = (a: { kind: WriteKind; ms: number; counter: number; writer: string; n: number; field: string }): Write =>
  a.kind === 'set' ? w('set', a.ms, a.writer, a.n % 3 === 0 ? 'text' : { [a.field]: a.n }, a.counter)
  : a.kind === 'delta' ? w('delta', a.ms, a.writer, { [a.field]: a.n }, a.counter)
  : w(a.kind, a.ms, a.writer, undefined, a.counter)

describe('sync rules: order independence', () => {
  it('any two delivery orders (with duplicates) of the same writes give the same table', () => {
    fc.assert(
      fc.property(fc.array(arbWrite, { minLength: 1, maxLength: 30 }), fc.boolean(), fc.infiniteStream(fc.nat()), (raw, leasing, seeds) => {
        const rules = leasing ? RULES : LWW
        const writes = raw.map(toWrite)
        const shuffled = [...writes, ...writes.slice(0, 5)]
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = seeds.next().value % (i + 1)
          ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
        }
        const a = build(writes, rules)
        const b = build(shuffled, rules)
        expect(shown(b, rules)).toEqual(shown(a, rules))
        expect(keyStateDigest('k', b)).toEqual(keyStateDigest('k', a))
      }),
      { numRuns: 300 },
    )
  })

  it("a one-write key's item id is its write's statement (the leaf the signed mode checks); other states hash their own", () => {
    const one = build([w('set', 10, 'A', 'x')])
    expect(keyStateDigest('k', one)).toEqual(writeStatement('k', one.log[0]!).subarray(0, 16))
    expect(keyStateDigest('other', one)).not.toEqual(keyStateDigest('k', one)) // the key is in it
    const two = build([w('set', 10, 'A', 'x'), w('set', 11, 'A', 'y')])
    const ids = [keyStateDigest('k', two), ...two.log.map((x) => writeStatement('k', x).subarray(0, 16))]
    expect(new Set(ids.map((id) => Buffer.from(id).toString('hex'))).size).toBe(3)
    // Folded to one write after a checkpoint: not the write's statement either.
    const folded = build([w('set', 10, 'A', 'x'), w('set', 11, 'A', 'y')], { ...RULES, maxHistory: 1 })
    expect([folded.base !== undefined, folded.log.length]).toEqual([true, 1])
    expect(keyStateDigest('k', folded)).not.toEqual(writeStatement('k', folded.log[0]!).subarray(0, 16))
  })

  it('merging two replicas that each saw part of the writes equals one that saw them all, both ways', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(arbWrite, fc.integer({ min: 0, max: 2 })), { maxLength: 30 }), (raw) => {
        const all = raw.map(([a]) => toWrite(a))
        const left = raw.filter(([, side]) => side !== 1).map(([a]) => toWrite(a))
        const right = raw.filter(([, side]) => side !== 0).map(([a]) => toWrite(a))
        const l = build(left)
        const r = build(right)
        expect(shown(mergeKeys(l, r, RULES))).toEqual(shown(build(all)))
        expect(shown(mergeKeys(r, l, RULES))).toEqual(shown(build(all)))
        expect(shown(mergeKeys(l, l, RULES))).toEqual(shown(l))
      }),
      { numRuns: 300 },
    )
  })

  it('with more writes than the history keeps, replicas that exchange states still converge', () => {
    const small: SyncRules = { ...RULES, maxHistory: 4 }
    fc.assert(
      fc.property(fc.array(arbWrite, { minLength: 5, maxLength: 25 }), fc.infiniteStream(fc.nat()), (raw, seeds) => {
        const writes = raw.map(toWrite)
        const other = [...writes].sort(() => (seeds.next().value % 3) - 1)
        const a = build(writes, small)
        const b = build(other, small)
        const ab = mergeKeys(a, b, small)
        const ba = mergeKeys(b, a, small)
        expect(shown(ab, small)).toEqual(shown(ba, small))
        expect(keyStateDigest('k', ab)).toEqual(keyStateDigest('k', ba))
        expect(ab.log.length).toBeLessThanOrEqual(4)
      }),
      { numRuns: 200 },
    )
  })
})

describe('sync rules: leases', () => {
  it('the owner may always write; others are refused until leaseMs + maxDriftMs after its last write', () => {
    const key = build([w('set', 0, 'A', 1), w('set', 500, 'A', 2), w('set', 1_000, 'B', 3), w('set', 1_599, 'B', 4)])
    const r = resolve(key, RULES)
    expect(r.value).toBe(2)
    expect(r.owner).toBe('A')
    expect(leaseEnd(r, RULES)).toBe(1_600)
    expect(r.refused.map((x) => x.value)).toEqual([3, 4])
    const later = resolve(insertWrite(key, w('set', 1_600, 'B', 5), RULES).key, RULES)
    expect([later.value, later.owner, later.gen]).toEqual([5, 'B', 3])
  })

  it('release frees the key at once; only the owner may release; delete gives the key up', () => {
    const released = resolve(build([w('set', 0, 'A', 1), w('release', 10, 'B'), w('set', 20, 'B', 2)]), RULES)
    expect([released.value, released.owner]).toEqual([1, 'A'])
    const freed = resolve(build([w('set', 0, 'A', 1), w('release', 10, 'A'), w('set', 20, 'B', 2)]), RULES)
    expect([freed.value, freed.owner]).toEqual([2, 'B'])
    const deleted = resolve(build([w('set', 0, 'A', 1), w('delete', 10, 'A'), w('set', 20, 'B', 2)]), RULES)
    expect([deleted.value, deleted.owner]).toEqual([2, 'B'])
  })

  it('the incumbent keeps the key after a heal: a takeover made while the owner kept renewing on the other side is refused', () => {
    // A renews every 400 ms on its side; B's side saw A's lease lapse (it missed the renewals) and took the key.
    const aSide = [w('set', 0, 'A', 'a0'), w('set', 400, 'A', 'a1'), w('set', 800, 'A', 'a2'), w('set', 1_200, 'A', 'a3')]
    const bSide = [w('set', 0, 'A', 'a0'), w('set', 1_100, 'B', 'b1'), w('set', 1_300, 'B', 'b2')]
    const healed = resolve(mergeKeys(build(aSide), build(bSide), RULES), RULES)
    expect([healed.value, healed.owner]).toEqual(['a3', 'A'])
    expect(healed.refused.map((x) => x.value)).toEqual(['b1', 'b2'])
  })

  it('leasing off: the last writer (stamp, then id) wins', () => {
    const r = resolve(build([w('set', 5, 'B', 'b'), w('set', 5, 'A', 'a'), w('set', 4, 'C', 'c')], LWW), LWW)
    expect([r.value, r.owner]).toEqual(['b', undefined])
    expect(resolve(build([w('release', 9, 'B')], LWW), LWW).refused).toHaveLength(1)
  })
})

describe('sync rules: deltas', () => {
  it('concurrent deltas to different fields both land, in any order; the same field goes to the later stamp', () => {
    const writes = [w('set', 0, 'A', { t: 0 }), w('delta', 5, 'A', { x: 1 }), w('delta', 6, 'A', { y: 2 }), w('delta', 7, 'A', { x: 3 })]
    expect(resolve(build(writes, LWW), LWW).value).toEqual({ t: 0, x: 3, y: 2 })
    expect(resolve(build([...writes].reverse(), LWW), LWW).value).toEqual({ t: 0, x: 3, y: 2 })
  })

  it('a delta on an absent key makes a map; on a non-map value it is refused', () => {
    expect(resolve(build([w('delta', 1, 'A', { x: 1 })]), RULES).value).toEqual({ x: 1 })
    const r = resolve(build([w('set', 1, 'A', 'text'), w('delta', 2, 'A', { x: 1 })]), RULES)
    expect([r.value, r.refused.length]).toEqual(['text', 1])
  })

  it('a set after a delta replaces the whole value', () => {
    expect(resolve(build([w('delta', 1, 'A', { x: 1 }), w('set', 2, 'A', { y: 2 })]), RULES).value).toEqual({ y: 2 })
  })
})

describe('sync rules: history', () => {
  it('writes older than the folded history are stale; the checkpoint keeps the lease', () => {
    const small: SyncRules = { ...RULES, maxHistory: 2 }
    let key = build([w('set', 0, 'A', 1), w('set', 100, 'B', 2), w('set', 200, 'B', 3), w('set', 300, 'A', 4)], small)
    expect(key.log).toHaveLength(2)
    expect(insertWrite(key, w('set', 50, 'C', 9), small).outcome).toBe('stale')
    // B's writes were refused (A's lease), and the fold remembered A as the owner.
    key = insertWrite(key, w('set', 400, 'B', 5), small).key
    expect([resolve(key, small).value, resolve(key, small).owner]).toEqual([4, 'A'])
  })
})
