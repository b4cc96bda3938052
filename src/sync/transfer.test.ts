import { sha384 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { Prng } from '../testing/prng.js'
import { bytesToBigInt } from '../util/bytes.js'
import { b58encode } from '../wire/base58.js'
import { packArray, unpackArray } from '../wire/payload.js'
import { GroupTree } from './group-tree.js'
import type { KeyState } from './key-state.js'
import { decodeColumns, decodeTransfer, sharedStart, transferColumns, WireGroups } from './transfer.js'
import { treeOf, writeItems, type Write, type WriteGroup } from './write.js'

const SEED = Number(process.env.SEED ?? 20261207)
const BOUNDS = { maxKeyBytes: 1_024, maxValueBytes: 65_536 }
const WRITERS = [1, 2, 3].map((n) => b58encode(bytesToBigInt(sha384(Uint8Array.of(n)))))

/** Random key states: every kind, several writers, signatures, groups (with real trees), checkpoints. */
function states(rng: Prng, n: number): Array<[string, KeyState]> {
  const out: Array<[string, KeyState]> = []
  const pending: Array<[string, Write]> = []
  for (let e = 0; e < n; e++) {
    // Keys that share starts, some inside a surrogate pair (😀 and 😁 share their first code unit).
    const key = rng.pick([`key ${rng.int(1_000_000)} é`, `key ${rng.int(100)}`, `😀${rng.int(30)}`, `😀${rng.pick(['', '😁', 'x'])}`, '😁z', ''])
    const log: Write[] = []
    for (let c = rng.int(4); c > 0; c--) {
      const stamp = { ms: 1_700_000_000_000 + (rng.int(2) === 0 ? 0 : rng.int(1_000_000) - 500_000), counter: rng.int(3) }
      const writer = rng.pick(WRITERS)
      const kind = rng.pick(['set', 'delete', 'delta', 'release'] as const)
      const value = kind === 'set' ? rng.pick<unknown>(['text', 42, -7.5, Uint8Array.of(1, 2), [1, 'a'], { x: 1 }]) : kind === 'delta' ? { f: rng.int(9) } : undefined
      let w: Write = value === undefined ? { kind, stamp, writer } : { kind, stamp, writer, value }
      const proof = rng.int(3)
      if (proof === 1) w = { ...w, sig: Uint8Array.from({ length: 64 }, () => rng.int(256)) }
      if (proof === 2) pending.push([key, w])
      log.push(w)
    }
    const base =
      rng.int(4) === 0
        ? { horizon: { kind: 'set' as const, stamp: { ms: 1_600_000_000_000, counter: 0 }, writer: WRITERS[0]!, value: 'old', sig: new Uint8Array(64).fill(3) }, value: 'old', stamp: { ms: 1_600_000_000_000, counter: 0 }, writer: WRITERS[0]!, owner: undefined, leaseStamp: undefined, gen: 40 }
        : undefined
    out.push([key, { base, log }])
  }
  // The grouped writes: one group per writer, their trees over their real leaves.
  const groups = new Map<string, Array<[string, Write]>>()
  for (const [key, w] of pending) groups.set(w.writer, [...(groups.get(w.writer) ?? []), [key, w]])
  const placed = new Map<Write, Write>()
  for (const [writer, writes] of groups) {
    const tree = treeOf(writes)
    const group: WriteGroup = { writer, sig: new Uint8Array(64).fill(writes.length & 0xff), size: writes.length, tree }
    writes.forEach(([, w], index) => placed.set(w, { ...w, group, index }))
  }
  return out.map(([key, s]) => [key, { base: s.base, log: s.log.map((w) => placed.get(w) ?? w) }])
}

/** A state as comparable data: each write's content, signature or (group signature, place). */
function plain(entries: Array<[string, KeyState]>): unknown {
  const write = (w: Write) => [...writeItems(w), w.sig ?? null, w.group === undefined ? null : [w.group.sig, w.index]]
  return entries.map(([key, s]) => [key, s.base === undefined ? null : [write(s.base.horizon), s.base.value, s.base.gen], s.log.map(write)])
}

/** Through msgpack, as the wire carries it. */
function wire(items: unknown[]): unknown[] {
  const bytes = packArray(items)
  return unpackArray(bytes, { maxItems: 1 << 20, maxDepth: 100, maxBytes: bytes.length })
}

describe('state transfer as columns', () => {
  it('any batch of states survives the columns, msgpack and the decoder unchanged', () => {
    const rng = new Prng(SEED)
    for (let round = 0; round < 100; round++) {
      const entries = states(rng, rng.int(60))
      const groups = new WireGroups()
      const columns = transferColumns(entries, groups)
      const got = decodeTransfer(wire([columns, [], groups.items()]), BOUNDS)
      expect(plain(got.entries), `seed ${SEED} round ${round}`).toEqual(plain(entries))
    }
  })

  it('unsigned: no proofs column, no indexes; a run of one group costs index 0 after its first write', () => {
    const plainWrites: Array<[string, KeyState]> = ['a', 'b'].map((key, i) => [key, { base: undefined, log: [{ kind: 'set', stamp: { ms: 1_000 + i, counter: 0 }, writer: WRITERS[0]!, value: key }] }])
    const columns = transferColumns(plainWrites, new WireGroups())
    expect(columns.slice(0, 3)).toEqual([[WRITERS[0]], ['a', 'b'], [0, 0]])
    expect(columns[6]).toEqual([1_000, 1]) // ms: differences
    expect(columns[7]).toEqual([0, 0]) // counters: as they are when the ms differs
    expect(columns.slice(10)).toEqual([[], []])
    const tree = GroupTree.of(new Uint8Array(16 * 10).fill(1))
    const group: WriteGroup = { writer: WRITERS[0]!, sig: new Uint8Array(64), size: 10, tree }
    const run: Array<[string, KeyState]> = [4, 5, 6].map((index) => [`k${index}`, { base: undefined, log: [{ kind: 'set', stamp: { ms: 1_000, counter: index }, writer: WRITERS[0]!, value: 1, group, index }] }])
    const grouped = transferColumns(run, new WireGroups())
    expect(grouped.slice(10)).toEqual([[0, 0, 0], [4, 0, 0]])
    // A group's writes share their ms: counters as differences; keys without what they share with the key before.
    expect([grouped[1], grouped[2], grouped[6], grouped[7]]).toEqual([['k4', '5', '6'], [0, 1, 1], [1_000, 0, 0], [4, 1, 1]])
  })

  it('a key shares whole code points with the key before, never half a surrogate pair', () => {
    expect(sharedStart('', 'abc')).toEqual([0, 0])
    expect(sharedStart('key1', 'key2')).toEqual([3, 3])
    expect(sharedStart('abc', 'ab')).toEqual([2, 2])
    expect(sharedStart('😀a', '😀b')).toEqual([1, 2])
    expect(sharedStart('😀', '😁')).toEqual([0, 0]) // one code unit in common: not shared
    expect(sharedStart('é😀x', 'é😀y')).toEqual([2, 3])
    // Through the decoder: a shared count past the key before is refused.
    const columns = transferColumns([['😀b', { base: undefined, log: [] }]], new WireGroups())
    expect(decodeColumns([columns[0], ['😀a', 'b'], [0, 1], ...columns.slice(3)].map((c, i) => (i === 4 ? [0, 0] : c)), BOUNDS, undefined).map(([k]) => k)).toEqual(['😀a', '😀b'])
    expect(() => decodeColumns([columns[0], ['😀a', 'b'], [0, 3], [], [0, 0], ...columns.slice(5)], BOUNDS, undefined)).toThrow(TypeError)
    expect(() => decodeColumns([columns[0], ['a'], [-1], ...columns.slice(3)], BOUNDS, undefined)).toThrow(TypeError)
  })

  it('hostile columns are refused with a TypeError or RangeError, never anything else', () => {
    const rng = new Prng(SEED + 1)
    const junk = (): unknown => rng.pick<unknown>([null, -1, 2 ** 53, 0.5, 'x', 'k'.repeat(2_000), new Uint8Array(64), new Uint8Array(3), [], [1, 2], { a: 1 }, 7, 1_000_000])
    let refused = 0
    for (let round = 0; round < 2_000; round++) {
      const entries = states(rng, 1 + rng.int(8))
      const groups = new WireGroups()
      const items = wire([transferColumns(entries, groups), [], groups.items()])
      const columns = items[0] as unknown[][]
      const c = rng.int(12)
      if (rng.int(3) === 0) columns[c] = junk() as unknown[]
      else if (Array.isArray(columns[c]) && columns[c].length > 0) columns[c][rng.int(columns[c].length)] = junk()
      else columns.length = rng.int(12)
      try {
        decodeTransfer(items, BOUNDS)
      } catch (err: unknown) {
        expect(err instanceof TypeError || err instanceof RangeError, String(err)).toBe(true)
        refused++
      }
    }
    expect(refused).toBeGreaterThan(1_000)
  })
})
