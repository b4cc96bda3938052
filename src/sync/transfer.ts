import { isNodeId } from '../wire/base58.js'
import type { KeyState } from './key-state.js'
import { GroupTree, NODE_BYTES } from './group-tree.js'
import { MAX_GROUP, type WriteGroup } from './write.js'
import { MAX_ENTRIES, decodeEntry, nodeId, type Bounds, type GroupCodec } from './write-codec.js'

/** A state transfer as decoded: the entries, and (signed mode) the writers' public keys. */
export interface Transfer {
  entries: Array<[key: string, state: KeyState]>
  keys: Map<string, Uint8Array>
}

/** A state transfer's items after the sub flag, from hostile input. */
export function decodeTransfer(items: unknown[], bounds: Bounds): Transfer {
  const [list, keyList, groupList] = items
  if (items.length < 1 || items.length > 3 || !Array.isArray(list) || list.length > MAX_ENTRIES) throw new TypeError('store: [[key, checkpoint, writes], ...]')
  const keys = new Map<string, Uint8Array>()
  if (keyList !== undefined) {
    if (!Array.isArray(keyList) || keyList.length > MAX_ENTRIES) throw new TypeError('store: [[writer, publicKey], ...]')
    for (const k of keyList) {
      if (!Array.isArray(k) || k.length !== 2 || typeof k[0] !== 'string' || !isNodeId(k[0]) || !(k[1] instanceof Uint8Array) || k[1].length !== 32) throw new TypeError('store: a key is [writer, 32 bytes]')
      keys.set(k[0], k[1])
    }
  }
  const groups = groupList === undefined ? undefined : WireGroups.decode(groupList)
  return { entries: list.map((e) => decodeEntry(e, bounds, groups)), keys }
}

/**
 * The groups one state-transfer message names, in order: a grouped write's proof is
 * [group's place in the list, write's place in the group]. Each group goes as [writer, sig, size,
 * [[level, index, node], ...]]: the nodes of its hash tree (group-tree.ts) that, with the leaves
 * of the writes the message carries, give the root its writer signed.
 */
export class WireGroups implements GroupCodec {
  readonly #places = new Map<WriteGroup, number>()
  readonly #list: WriteGroup[] = []
  readonly #carried: Array<Set<number>> = []

  encode(group: WriteGroup, index: number): unknown {
    let g = this.#places.get(group)
    if (g === undefined) {
      g = this.#list.length
      this.#places.set(group, g)
      this.#list.push(group)
      this.#carried.push(new Set())
    }
    this.#carried[g]!.add(index)
    return [g, index]
  }

  decode(proof: unknown, writer: string): { group: WriteGroup; index: number } {
    if (!Array.isArray(proof) || proof.length !== 2) throw new TypeError('write: a group reference is [group, index]')
    const [g, index] = proof as unknown[]
    const group = Number.isInteger(g) ? this.#list[g as number] : undefined
    if (group === undefined || group.writer !== writer) throw new TypeError("write: the group reference names none of its writer's groups")
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= group.size) throw new TypeError('write: the group index is out of range')
    return { group, index: index as number }
  }

  get size(): number {
    return this.#list.length
  }

  /** The message's group list. Throws if this node cannot prove a write it carries (it holds every node it needs for the writes it has). */
  items(): unknown[] {
    return this.#list.map((group, g) => {
      const proof = group.tree.proof(this.#carried[g]!)
      if (proof === undefined) throw new Error(`cannot prove writes of a group by ${group.writer}: nodes missing`)
      return [group.writer, group.sig, group.size, proof]
    })
  }

  /** A message's group list, from hostile input: each group's tree holds the nodes given. */
  static decode(list: unknown): WireGroups {
    if (!Array.isArray(list) || list.length > MAX_ENTRIES) throw new TypeError('store: [[writer, sig, size, nodes], ...]')
    const out = new WireGroups()
    for (const item of list) {
      if (!Array.isArray(item) || item.length !== 4) throw new TypeError('store: a group is [writer, sig, size, [[level, index, node], ...]]')
      const [writer, sig, size, nodes] = item as unknown[]
      if (!nodeId(writer)) throw new TypeError('store: a group writer is a node id')
      if (!(sig instanceof Uint8Array) || sig.length !== 64) throw new TypeError('store: a group signature is 64 bytes')
      if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > MAX_GROUP) throw new TypeError(`store: a group holds 1 to ${MAX_GROUP} writes`)
      const tree = new GroupTree(size as number)
      if (!Array.isArray(nodes) || nodes.length > 2 * (size as number)) throw new TypeError('store: group nodes')
      for (const n of nodes) {
        if (!Array.isArray(n) || n.length !== 3) throw new TypeError('store: a group node is [level, index, 16 bytes]')
        const [level, index, node] = n as unknown[]
        if (!(node instanceof Uint8Array) || node.length !== NODE_BYTES || !tree.set(level as number, index as number, node)) throw new TypeError('store: a group node is out of place')
      }
      const group: WriteGroup = { writer, sig, size: size as number, tree }
      out.#places.set(group, out.#list.length)
      out.#list.push(group)
      out.#carried.push(new Set())
    }
    return out
  }
}
