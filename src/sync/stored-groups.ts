import { toHex } from '../util/bytes.js'
import { GroupTree } from './group-tree.js'
import type { GroupCodec } from './write-codec.js'
import { MAX_GROUP, type WriteGroup } from './write.js'

/** A group of writes signed together (signed mode): [writer, sig, size, [[place, node], ...]] (its hash tree as known), one record for all its writes. */
export const GROUP_PREFIX = 'g:'

/** A group's record key: its writer and signature. */
function groupRecord(writer: string, sig: Uint8Array): string {
  return `${GROUP_PREFIX}${writer}:${toHex(sig)}`
}

export function groupItems(g: WriteGroup): unknown[] {
  return own([g.writer, g.sig, g.size, g.tree.entries()]) as unknown[]
}

export function decodeGroup(record: string, items: unknown): WriteGroup {
  if (!Array.isArray(items) || items.length !== 4) throw new TypeError('a group is [writer, sig, size, nodes]')
  const [writer, sig, size, nodes] = items as unknown[]
  if (typeof writer !== 'string' || !(sig instanceof Uint8Array) || sig.length !== 64 || groupRecord(writer, sig) !== record) throw new TypeError('a group record is named by its writer and signature')
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > MAX_GROUP || !Array.isArray(nodes)) throw new TypeError('a group holds 1 to MAX_GROUP writes')
  const tree = GroupTree.restore(size as number, nodes as Array<[number, Uint8Array]>)
  if (tree === undefined) throw new TypeError('group nodes')
  return { writer, sig, size: size as number, tree }
}

/**
 * Grouped writes as stored: a write's proof names its group by signature, and each group is a
 * record of its own. Collects the groups it names (`take`), for the persister to store.
 */
export class StoredGroups implements GroupCodec {
  readonly #byRecord = new Map<string, WriteGroup>()
  #named = new Map<string, WriteGroup>()

  add(record: string, group: WriteGroup): void {
    this.#byRecord.set(record, group)
  }

  encode(group: WriteGroup, index: number): unknown {
    const record = groupRecord(group.writer, group.sig)
    this.#named.set(record, group)
    this.#byRecord.set(record, group)
    return [group.sig, index]
  }

  decode(proof: unknown, writer: string): { group: WriteGroup; index: number } {
    if (!Array.isArray(proof) || proof.length !== 2 || !(proof[0] instanceof Uint8Array)) throw new TypeError('a stored group reference is [sig, index]')
    const group = this.#byRecord.get(groupRecord(writer, proof[0]))
    const index: unknown = proof[1]
    if (group === undefined) throw new TypeError('a stored write names a group not stored')
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= group.size) throw new TypeError('a stored group index is out of range')
    return { group, index: index as number }
  }

  /** The groups named since the last take, by record key. */
  take(): Map<string, WriteGroup> {
    const named = this.#named
    this.#named = new Map()
    return named
  }
}


/**
 * The groups of one snapshot chunk in columns: a grouped write names its group's place in the
 * chunk's list of signatures (`sigs()`), which the stored groups resolve with the write's
 * writer. Encoding also names the group to `stored`, so that its record is written.
 */
export class ChunkGroups implements GroupCodec {
  readonly #stored: StoredGroups
  readonly #sigs: Uint8Array[]
  readonly #places = new Map<WriteGroup, number>()

  /** `sigs`: a stored chunk's list (decoding); none to start a new one (encoding). */
  constructor(stored: StoredGroups, sigs: unknown[] = []) {
    if (!sigs.every((sig) => sig instanceof Uint8Array && sig.length === 64)) throw new TypeError("a chunk's group signatures are 64 bytes each")
    this.#stored = stored
    this.#sigs = sigs as Uint8Array[]
  }

  encode(group: WriteGroup, index: number): unknown {
    this.#stored.encode(group, index)
    let g = this.#places.get(group)
    if (g === undefined) {
      g = this.#sigs.push(group.sig) - 1
      this.#places.set(group, g)
    }
    return [g, index]
  }

  decode(proof: unknown, writer: string): { group: WriteGroup; index: number } {
    if (!Array.isArray(proof) || proof.length !== 2 || !Number.isInteger(proof[0])) throw new TypeError("a chunk's group reference is [place, index]")
    const sig = this.#sigs[proof[0] as number]
    if (sig === undefined) throw new TypeError('a chunk names a group it does not list')
    return this.#stored.decode([sig, proof[1]], writer)
  }

  /** The signatures of the groups named so far, by place (msgpack copies their bytes: views are fine). */
  sigs(): readonly Uint8Array[] {
    return this.#sigs
  }
}

/** `v` with every Uint8Array view of a larger buffer copied out (values are wire values: arrays, plain objects). */
export function own(v: unknown): unknown {
  if (v instanceof Uint8Array) return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice()
  if (Array.isArray(v)) return v.map(own)
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = own(x)
    return out
  }
  return v
}
