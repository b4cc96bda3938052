import { describe, expect, it } from 'vitest'
import { Prng } from '../testing/prng.js'
import { GroupTree } from './group-tree.js'
import { byGroup, entryBatches, recentPart, unknownPart } from './entry-batches.js'
import { binaryKey } from '../util/bytes.js'
import { keyStateDigest, type KeyState } from './key-state.js'
import { listId } from './rbsr-codec.js'
import { Table } from './table.js'
import type { WriteGroup } from './write.js'

const RULES = { leasing: false, leaseMs: 1_000, maxDriftMs: 100, maxHistory: 8 }
const WRITER = 'A'

/** 3 groups of 400 writes, one key each, inserted in a shuffled order (as a node that learned them from several peers). */
function table(seed: number): { table: Table; keys: string[] } {
  const rng = new Prng(seed)
  const t = new Table(RULES, 100_000)
  const groups = [0, 1, 2].map((g): WriteGroup => ({ writer: WRITER, sig: new Uint8Array(64).fill(g + 1), size: 400, tree: GroupTree.of(Uint8Array.from({ length: 400 * 16 }, () => rng.int(256))) }))
  const writes = groups.flatMap((group, g) => Array.from({ length: 400 }, (_, index) => ({ key: `g${g}k${index}`, group, index })))
  const order = rng.shuffle(writes)
  order.forEach(({ key, group, index }, i) => t.insert(key, { kind: 'set', stamp: { ms: 1_000 + i, counter: 0 }, writer: WRITER, value: key, group, index }))
  return { table: t, keys: order.map((w) => w.key) }
}

/** Tree nodes the batches' multiproofs hold, in all. */
function proofNodes(t: Table, keys: string[]): number {
  let nodes = 0
  for (const batch of entryBatches(t, keys, 8_192)) for (const g of batch.groups.items() as Array<[string, Uint8Array, number, unknown[]]>) nodes += g[3].length
  return nodes
}

describe('entry batches', () => {
  it('byGroup puts each group\'s writes together, in their order: the batches\' multiproofs shrink from hundreds of nodes to a few', () => {
    const { table: t, keys } = table(20261207)
    const ordered = byGroup(t, keys)
    expect([...ordered].sort()).toEqual([...keys].sort())
    expect(ordered.slice(0, 3)).toEqual(['g' + ordered[0]![1] + 'k0', 'g' + ordered[0]![1] + 'k1', 'g' + ordered[0]![1] + 'k2'])
    const scattered = proofNodes(t, keys)
    const runs = proofNodes(t, ordered)
    expect(runs).toBeLessThan(scattered / 10)
    // A run needs at most ~2 nodes a level at each end: 9 levels, a few batches.
    expect(runs).toBeLessThan(200)
  })

  it('byGroup puts keys whose newest write is not grouped first, in the order written (writer, then stamp), however learnt', () => {
    const rng = new Prng(7)
    const t = new Table(RULES, 1_000)
    const written = ['B', 'A'].flatMap((writer) => Array.from({ length: 50 }, (_, i) => ({ key: `${writer}${i}`, writer, stamp: { ms: 1_000 + (i >> 3), counter: i & 7 } })))
    for (const { key, writer, stamp } of rng.shuffle([...written])) t.insert(key, { kind: 'set', stamp, writer, value: key })
    const grouped = table(1).table.row('g0k0')!.state.log[0]!
    t.insert('grouped', grouped)
    expect(byGroup(t, rng.shuffle([...written.map((w) => w.key), 'grouped']))).toEqual([...written.slice(50), ...written.slice(0, 50)].map((w) => w.key).concat('grouped'))
  })

  it('a key whose state at the peer is an earlier state of ours goes with the writes after it only', () => {
    const w = (ms: number, value: string) => ({ kind: 'set' as const, stamp: { ms, counter: 0 }, writer: WRITER, value })
    const state: KeyState = { base: undefined, log: [w(1, 'a'), w(2, 'b'), w(3, 'c')] }
    const peer = (s: KeyState) => new Set([binaryKey(listId(keyStateDigest('k', s)))]) // as the reconciliation listed it
    expect(unknownPart('k', state, peer({ base: undefined, log: state.log.slice(0, 1) })).log).toEqual(state.log.slice(1))
    expect(unknownPart('k', state, peer({ base: undefined, log: state.log.slice(0, 2) })).log).toEqual(state.log.slice(2))
    // Not an earlier state of ours (another key's, or a state that went another way): everything.
    expect(unknownPart('k', state, peer({ base: undefined, log: [w(1, 'x')] }))).toBe(state)
    expect(unknownPart('other', state, peer({ base: undefined, log: state.log.slice(0, 1) }))).toBe(state)
    // Through the batches: the columns carry one write for the key.
    const t = new Table(RULES, 10)
    for (const x of state.log) t.insert('k', x)
    const [batch] = [...entryBatches(t, ['k'], 8_192, peer({ base: undefined, log: t.row('k')!.state.log.slice(0, 2) }))]
    expect(batch!.columns[4]).toEqual([1]) // counts
  })

  it('a session of the newest items sends each key with its writes newer than the session\'s start only', () => {
    const w = (ms: number, value: string) => ({ kind: 'set' as const, stamp: { ms, counter: 0 }, writer: WRITER, value })
    const state: KeyState = { base: undefined, log: [w(10, 'a'), w(20, 'b'), w(30, 'c')] }
    expect(recentPart(state, 5)).toBe(state)
    expect(recentPart(state, 10).log).toEqual(state.log.slice(1)) // the start's own millisecond stays home (a group shares one)
    expect(recentPart(state, 25)).toEqual({ base: undefined, log: state.log.slice(2) })
    // Nothing newer (the key's item sits at the start): all of it.
    expect(recentPart(state, 30)).toBe(state)
    // A checkpoint stays home with the older writes; one newer than the start (it folds newer writes) goes, with all.
    const based: KeyState = { base: { horizon: w(5, 'z'), value: 'z', stamp: { ms: 5, counter: 0 }, writer: WRITER, owner: undefined, leaseStamp: undefined, gen: 1 }, log: state.log }
    expect(recentPart(based, 15)).toEqual({ base: undefined, log: state.log.slice(1) })
    expect(recentPart(based, 1)).toBe(based)
    // Through the batches: the columns carry the newer writes only.
    const t = new Table(RULES, 10)
    for (const x of state.log) t.insert('k', x)
    const [batch] = [...entryBatches(t, ['k'], 8_192, undefined, 15)]
    expect(batch!.columns[4]).toEqual([2]) // counts
  })
})
