import { sha256 } from '@noble/hashes/sha2.js'
import { equalBytes } from '../util/bytes.js'

/**
 * The hash tree over a group's write leaves (docs/protocol.md, "Groups of writes"): its writer
 * signs the root, so any subset of the group's writes is proven by their leaves and the few
 * nodes beside their paths (a multiproof: about log2(size / k) nodes per write for k of them, none
 * when all travel), and one signature check covers them all.
 *
 * Level 0 holds the leaves; a node of level l + 1 is H(left child, right child), and a last node
 * without a sibling moves up unchanged; the top level's one node is the root. H(a, b) is the
 * first NODE_BYTES of sha256(0x01 || a || b). A tree may be partial: it holds the nodes it was
 * given or could compute. Pure: no I/O, no time.
 */

/** Bytes of a leaf and of a node. */
export const NODE_BYTES = 16
/** A group holds at most this many writes (its tree 11 levels). */
export const MAX_TREE_LEAVES = 1_024

/** A node in a proof: [level, index, node]. */
export type ProofNode = [level: number, index: number, node: Uint8Array]

/** The number of nodes on each level of a tree over `size` leaves, level 0 first. */
export function levelSizes(size: number): number[] {
  if (!Number.isInteger(size) || size < 1 || size > MAX_TREE_LEAVES) throw new RangeError(`a group tree holds 1 to ${MAX_TREE_LEAVES} leaves`)
  const sizes = [size]
  while (sizes[sizes.length - 1]! > 1) sizes.push(Math.ceil(sizes[sizes.length - 1]! / 2))
  return sizes
}

function parentOf(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + 2 * NODE_BYTES)
  input[0] = 0x01
  input.set(left, 1)
  input.set(right, 1 + NODE_BYTES)
  return sha256(input).slice(0, NODE_BYTES)
}

export class GroupTree {
  readonly size: number
  readonly #levels: number[]
  readonly #nodes = new Map<number, Uint8Array>()

  constructor(size: number) {
    this.#levels = levelSizes(size)
    this.size = size
  }

  /** The whole tree over `leaves` (size × NODE_BYTES bytes). */
  static of(leaves: Uint8Array): GroupTree {
    const tree = new GroupTree(leaves.length / NODE_BYTES)
    for (let i = 0; i < tree.size; i++) tree.set(0, i, leaves.slice(i * NODE_BYTES, (i + 1) * NODE_BYTES))
    tree.fill()
    return tree
  }

  /** Levels, the root's included. */
  get levels(): number {
    return this.#levels.length
  }

  /** Nodes held. */
  get nodeCount(): number {
    return this.#nodes.size
  }

  /** Whether (level, index) is a place in this tree. */
  has(level: number, index: number): boolean {
    return Number.isInteger(level) && Number.isInteger(index) && level >= 0 && level < this.#levels.length && index >= 0 && index < this.#levels[level]!
  }

  node(level: number, index: number): Uint8Array | undefined {
    return this.#nodes.get(level * 2048 + index)
  }

  get root(): Uint8Array | undefined {
    return this.node(this.#levels.length - 1, 0)
  }

  /** Sets a node; false (and nothing set) when another node is already there, or the place is not in the tree. */
  set(level: number, index: number, node: Uint8Array): boolean {
    if (!this.has(level, index) || !(node instanceof Uint8Array) || node.length !== NODE_BYTES) return false
    const known = this.node(level, index)
    if (known !== undefined) return equalBytes(known, node)
    this.#nodes.set(level * 2048 + index, node)
    return true
  }

  /**
   * Computes every node whose children are held, then drops the nodes the root does not vouch
   * for (one whose sibling is missing proves nothing). The root, or undefined when it cannot be
   * computed or a computed node disagrees with one given.
   */
  fill(): Uint8Array | undefined {
    for (let level = 0; level < this.#levels.length - 1; level++) {
      const n = this.#levels[level]!
      for (let i = 0; i < n; i += 2) {
        const left = this.node(level, i)
        if (left === undefined) continue
        let parent: Uint8Array
        if (i + 1 === n) parent = left
        else {
          const right = this.node(level, i + 1)
          if (right === undefined) continue
          parent = parentOf(left, right)
        }
        if (!this.set(level + 1, i >> 1, parent)) return undefined
      }
    }
    if (this.root === undefined) return undefined
    for (let level = this.#levels.length - 2; level >= 0; level--) {
      const n = this.#levels[level]!
      for (let i = 0; i < n; i++) {
        const vouched = this.node(level + 1, i >> 1) !== undefined && ((i ^ 1) >= n || this.node(level, i ^ 1) !== undefined)
        if (!vouched) this.#nodes.delete(level * 2048 + i)
      }
    }
    return this.root
  }

  /**
   * The nodes that prove the leaves at `indices` (with the leaves themselves, which travel as
   * writes): the siblings along their paths that the paths do not give, by level then index.
   * Undefined when this tree lacks one of them.
   */
  proof(indices: Iterable<number>): ProofNode[] | undefined {
    const out: ProofNode[] = []
    let known = new Set(indices)
    for (let level = 0; level < this.#levels.length - 1; level++) {
      const n = this.#levels[level]!
      const up = new Set<number>()
      for (const i of [...known].sort((a, b) => a - b)) {
        const sibling = i ^ 1
        if (sibling < n && !known.has(sibling)) {
          const node = this.node(level, sibling)
          if (node === undefined) return undefined
          out.push([level, sibling, node])
        }
        up.add(i >> 1)
      }
      known = up
    }
    return out
  }

  /** Adds the nodes of `other`, a tree of the same root (checked by the caller). */
  merge(other: GroupTree): void {
    for (const [k, node] of other.#nodes) if (!this.#nodes.has(k)) this.#nodes.set(k, node)
  }

  /** Every node held, as [level × 2048 + index, node]: how storage keeps a tree. */
  entries(): Array<[number, Uint8Array]> {
    return [...this.#nodes]
  }

  /** A tree from `entries()`; undefined if one is not a place in a tree of `size` leaves. */
  static restore(size: number, entries: Iterable<[number, Uint8Array]>): GroupTree | undefined {
    const tree = new GroupTree(size)
    for (const [k, node] of entries) if (!tree.set(Math.floor(k / 2048), k % 2048, node)) return undefined
    return tree
  }
}
