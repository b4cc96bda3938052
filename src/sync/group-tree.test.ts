import { describe, expect, it } from 'vitest'
import { Prng } from '../testing/prng.js'
import { GroupTree, levelSizes, MAX_TREE_LEAVES, NODE_BYTES } from './group-tree.js'

const SEED = Number(process.env.SEED ?? 20261207)

function leavesOf(rng: Prng, n: number): Uint8Array {
  return Uint8Array.from({ length: n * NODE_BYTES }, () => rng.int(256))
}

/** What a receiver builds: the carried leaves and the proof's nodes, filled. */
function received(size: number, leaves: Uint8Array, carried: number[], proof: Array<[number, number, Uint8Array]>): GroupTree {
  const tree = new GroupTree(size)
  for (const i of carried) tree.set(0, i, leaves.slice(i * NODE_BYTES, (i + 1) * NODE_BYTES))
  for (const [level, index, node] of proof) expect(tree.set(level, index, node)).toBe(true)
  return tree
}

describe('GroupTree', () => {
  it('levels: a tree over n leaves halves (rounding up) until one node', () => {
    expect(levelSizes(1)).toEqual([1])
    expect(levelSizes(5)).toEqual([5, 3, 2, 1])
    expect(levelSizes(1024)).toHaveLength(11)
    expect(() => levelSizes(0)).toThrow(RangeError)
    expect(() => levelSizes(MAX_TREE_LEAVES + 1)).toThrow(RangeError)
  })

  it('any subset of the leaves with its proof gives the root; the proof is small for few leaves and empty for all', () => {
    const rng = new Prng(SEED)
    for (let round = 0; round < 200; round++) {
      const size = 1 + rng.int(round < 100 ? 40 : MAX_TREE_LEAVES)
      const leaves = leavesOf(rng, size)
      const full = GroupTree.of(leaves)
      const k = 1 + rng.int(size)
      const carried = [...new Set(Array.from({ length: k }, () => rng.int(size)))]
      const proof = full.proof(carried)!
      expect(received(size, leaves, carried, proof).fill(), `seed ${SEED} round ${round}`).toEqual(full.root)
      // At most one node per level for each carried leaf; none when every leaf travels.
      expect(proof.length).toBeLessThanOrEqual(carried.length * (full.levels - 1))
    }
    const all = leavesOf(rng, 300)
    expect(GroupTree.of(all).proof(Array.from({ length: 300 }, (_, i) => i))).toEqual([])
    // One leaf of 1,024: one node per level below the root.
    expect(GroupTree.of(leavesOf(rng, 1024)).proof([517])).toHaveLength(10)
  })

  it('a changed leaf or node gives another root; a node that disagrees with the computed one fails', () => {
    const rng = new Prng(SEED + 1)
    const leaves = leavesOf(rng, 37)
    const full = GroupTree.of(leaves)
    const carried = [3, 4, 20]
    const proof = full.proof(carried)!
    const changedLeaf = leaves.slice()
    changedLeaf[4 * NODE_BYTES] = changedLeaf[4 * NODE_BYTES]! ^ 1
    expect(received(37, changedLeaf, carried, proof).fill()).not.toEqual(full.root)
    const changedNode = proof.map(([l, i, n], j): [number, number, Uint8Array] => [l, i, j === 1 ? n.map((b) => b ^ 0x80) : n])
    expect(received(37, leaves, carried, changedNode).fill()).not.toEqual(full.root)
    // A given node where the carried leaves compute another: no root.
    const wrongParent = received(37, leaves, [2, 3], full.proof([2, 3])!)
    expect(wrongParent.set(1, 1, new Uint8Array(NODE_BYTES).fill(9))).toBe(true)
    expect(wrongParent.fill()).toBeUndefined()
  })

  it('fill keeps only the nodes the root vouches for: a node beside no sibling is dropped', () => {
    const rng = new Prng(SEED + 2)
    const leaves = leavesOf(rng, 8)
    const full = GroupTree.of(leaves)
    const tree = received(8, leaves, [0], full.proof([0])!)
    tree.set(0, 6, new Uint8Array(NODE_BYTES).fill(1)) // a bogus leaf: its sibling 7 is not there
    expect(tree.fill()).toEqual(full.root)
    expect(tree.node(0, 6)).toBeUndefined()
    expect(tree.node(0, 0)).toEqual(full.node(0, 0))
    expect(tree.node(0, 1)).toEqual(full.node(0, 1))
  })

  it('a partial tree proves any subset of the leaves it holds; merged trees prove their union', () => {
    const rng = new Prng(SEED + 3)
    const leaves = leavesOf(rng, 100)
    const full = GroupTree.of(leaves)
    const a = received(100, leaves, [1, 2, 50], full.proof([1, 2, 50])!)
    a.fill()
    expect(received(100, leaves, [2, 50], a.proof([2, 50])!).fill()).toEqual(full.root)
    expect(a.proof([10])).toBeUndefined() // leaf 11, beside it, is neither held nor computable
    const b = received(100, leaves, [70, 99], full.proof([70, 99])!)
    b.fill()
    a.merge(b)
    expect(received(100, leaves, [1, 99], a.proof([1, 99])!).fill()).toEqual(full.root)
    const restored = GroupTree.restore(100, a.entries())!
    expect(restored.entries()).toEqual(a.entries())
    expect(GroupTree.restore(100, [[11 * 2048, new Uint8Array(NODE_BYTES)]])).toBeUndefined() // no level 11 in a tree of 100
    expect(GroupTree.restore(100, [[0, 'not bytes' as unknown as Uint8Array]])).toBeUndefined()
  })
})
