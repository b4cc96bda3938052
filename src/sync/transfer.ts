import type { KeyState } from './key-state.js'
import { GroupTree, NODE_BYTES } from './group-tree.js'
import { MAX_GROUP, writeItems, type Write, type WriteGroup } from './write.js'
import { MAX_ENTRIES, checkKey, checkpointItems, content, decodeCheckpoint, nodeId, stamp, type Bounds, type GroupCodec } from './write-codec.js'

/**
 * A state transfer (docs/protocol.md, "Sync table" → "Messages"): `[columns, [[writer,
 * publicKey], ...]?, [group, ...]?]`. The key states travel as columns, so that like data sits
 * together for the link's deflate (keys with keys, values with values, small time deltas):
 *
 *   [writers, keys, shared, bases, counts, kinds, ms, counters, who, values, proofs, indexes]
 *
 * - writers: the node ids the batch's writes name; `who` holds each write's place in it;
 * - keys: one per entry, each without the code points it shares at its start with the key
 *   before (`shared`: how many); bases: [[entry, checkpoint], ...] for the entries that have one;
 * - counts: each entry's number of writes; the write columns hold all writes, entry by entry;
 * - kinds, values (nil for a delete or release); ms as differences from the write before (the
 *   first from 0; negative allowed); counters as differences from the write before when its ms
 *   is the same (a group's writes: 1s), else as they are;
 * - proofs: per write nil, a 64-byte signature, or its group's place in the group list ([] when
 *   no write has one); indexes: per grouped write, its place in the group minus one more than
 *   the place of the group's write before it (0 for runs).
 */

/** A state transfer as decoded: the entries, and (signed mode) the writers' public keys. */
export interface Transfer {
  entries: Array<[key: string, state: KeyState]>
  keys: Map<string, Uint8Array>
}

/** Writes in one state transfer at most (the frame's item budget is 65,536). */
export const MAX_TRANSFER_WRITES = 8_192

/** The columns of `entries`' states, naming their groups in `groups`. */
export function transferColumns(entries: ReadonlyArray<readonly [string, KeyState]>, groups: GroupCodec): unknown[] {
  const writers: string[] = []
  const writerAt = new Map<string, number>()
  const [keys, shared, bases, counts, kinds, ms, counters, who, values, proofs, indexes] = [[], [], [], [], [], [], [], [], [], [], []] as unknown[][]
  const lastIndex = new Map<number, number>()
  let [lastKey, lastMs, lastCounter] = ['', 0, 0]
  let proven = false
  entries.forEach(([key, state], e) => {
    const [points, units] = sharedStart(lastKey, key)
    keys!.push(key.slice(units))
    shared!.push(points)
    lastKey = key
    if (state.base !== undefined) bases!.push([e, checkpointItems(state.base, groups)])
    counts!.push(state.log.length)
    for (const w of state.log) {
      const [kind, , counter, , value] = writeItems(w) as [number, number, number, string, unknown]
      kinds!.push(kind)
      const sameMs = ms!.length > 0 && w.stamp.ms === lastMs
      ms!.push(w.stamp.ms - lastMs)
      counters!.push(sameMs ? counter - lastCounter : counter)
      ;[lastMs, lastCounter] = [w.stamp.ms, counter]
      let at = writerAt.get(w.writer)
      if (at === undefined) writerAt.set(w.writer, (at = writers.push(w.writer) - 1))
      who!.push(at)
      values!.push(value)
      if (w.sig !== undefined) proofs!.push(w.sig)
      else if (w.group !== undefined) {
        const [g, i] = groups.encode(w.group, w.index!) as [number, number]
        proofs!.push(g)
        indexes!.push(i - ((lastIndex.get(g) ?? -1) + 1))
        lastIndex.set(g, i)
      } else {
        proofs!.push(null)
        continue
      }
      proven = true
    }
  })
  return [writers, keys, shared, bases, counts, kinds, ms, counters, who, values, proven ? proofs : [], indexes]
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff

/** The code units of `s`'s first `points` code points (a surrogate pair is one), or -1 when it has fewer. */
function unitsOf(s: string, points: number): number {
  let u = 0
  for (let p = 0; p < points; p++) {
    if (u >= s.length) return -1
    u += isHigh(s.charCodeAt(u)) && isLow(s.charCodeAt(u + 1)) ? 2 : 1
  }
  return u
}

/** How many code points `key` shares at its start with `before`, and their code units (never half a pair). */
export function sharedStart(before: string, key: string): [points: number, units: number] {
  const n = Math.min(before.length, key.length)
  let units = 0
  while (units < n && before.charCodeAt(units) === key.charCodeAt(units)) units++
  if (units > 0 && isHigh(key.charCodeAt(units - 1))) units--
  let points = 0
  for (let u = 0; u < units; points++) u += isHigh(key.charCodeAt(u)) && isLow(key.charCodeAt(u + 1)) ? 2 : 1
  return [points, units]
}

function intColumn(v: unknown, name: string, length?: number): number[] {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length) || !v.every((x) => Number.isSafeInteger(x))) throw new TypeError(`store: ${name} is a column of integers`)
  return v as number[]
}

/** Entries from their columns (hostile input): every bound and reference checked. */
export function decodeColumns(columns: unknown, bounds: Bounds, groups: GroupCodec | undefined): Array<[string, KeyState]> {
  if (!Array.isArray(columns) || columns.length !== 12) throw new TypeError('store: 12 columns')
  const [writers, suffixes, sharedList, bases, countList, kindList, msList, counterList, whoList, values, proofs, indexList] = columns as unknown[]
  if (!Array.isArray(writers) || writers.length > MAX_ENTRIES || !writers.every((w) => nodeId(w))) throw new TypeError('store: writers are node ids')
  if (!Array.isArray(suffixes) || suffixes.length > MAX_ENTRIES) throw new TypeError(`store: at most ${MAX_ENTRIES} keys`)
  const shared = intColumn(sharedList, 'shared', suffixes.length)
  let lastKey = ''
  const keys = suffixes.map((suffix: unknown, e) => {
    const units = shared[e]! >= 0 ? unitsOf(lastKey, shared[e]!) : -1
    if (typeof suffix !== 'string' || units < 0) throw new TypeError('store: a key is a string sharing at most the code points of the key before')
    const key = lastKey.slice(0, units) + suffix
    checkKey(key, bounds)
    return (lastKey = key)
  })
  const counts = intColumn(countList, 'counts', keys.length)
  let total = 0
  for (const c of counts) {
    if (c < 0 || c > 1_024) throw new TypeError('store: a key holds 0 to 1,024 writes')
    total += c
  }
  if (total > MAX_TRANSFER_WRITES) throw new TypeError(`store: at most ${MAX_TRANSFER_WRITES} writes`)
  const [kinds, ms, counters, who] = [intColumn(kindList, 'kinds', total), intColumn(msList, 'ms', total), intColumn(counterList, 'counters', total), intColumn(whoList, 'who', total)]
  const indexes = intColumn(indexList, 'indexes')
  if (!Array.isArray(values) || values.length !== total || !Array.isArray(proofs) || (proofs.length !== total && proofs.length !== 0)) throw new TypeError('store: values and proofs are columns of every write')
  const base = new Map<number, unknown>()
  if (!Array.isArray(bases) || bases.length > keys.length) throw new TypeError('store: bases')
  for (const b of bases) {
    if (!Array.isArray(b) || b.length !== 2 || !Number.isInteger(b[0]) || (b[0] as number) < 0 || (b[0] as number) >= keys.length || base.has(b[0] as number)) throw new TypeError('store: a base is [entry, checkpoint]')
    base.set(b[0] as number, b[1])
  }
  const lastIndex = new Map<number, number>()
  let [j, t, counter, next] = [0, 0, 0, 0]
  const entries = keys.map((key, e): [string, KeyState] => {
    const log: Write[] = []
    for (let c = 0; c < counts[e]!; c++, j++) {
      t += ms[j]!
      counter = j > 0 && ms[j] === 0 ? counter + counters[j]! : counters[j]!
      const writer: unknown = writers[who[j]!]
      if (writer === undefined) throw new TypeError('store: a write names no writer of the batch')
      const w: Write = { ...content(kinds[j], values[j], bounds), stamp: stamp(t, counter), writer: writer as string }
      const proof: unknown = proofs.length === 0 ? null : proofs[j]
      if (proof === null) log.push(w)
      else if (proof instanceof Uint8Array && proof.length === 64) log.push({ ...w, sig: proof })
      else if (Number.isInteger(proof) && groups !== undefined && next < indexes.length) {
        const i = (lastIndex.get(proof as number) ?? -1) + 1 + indexes[next++]!
        lastIndex.set(proof as number, i)
        log.push({ ...w, ...groups.decode([proof, i], w.writer) })
      } else throw new TypeError('store: a proof is nil, a 64-byte signature or a group place')
    }
    const b = base.get(e)
    return [key, { base: b === undefined ? undefined : decodeCheckpoint(b, bounds, groups), log }]
  })
  if (next !== indexes.length) throw new TypeError('store: an index for every grouped write, no more')
  return entries
}

/** A state transfer's items after the sub flag, from hostile input. */
export function decodeTransfer(items: unknown[], bounds: Bounds): Transfer {
  const [columns, keyList, groupList] = items
  if (items.length < 1 || items.length > 3) throw new TypeError('store: [columns, [[writer, publicKey], ...]?, [group, ...]?]')
  const keys = new Map<string, Uint8Array>()
  if (keyList !== undefined) {
    if (!Array.isArray(keyList) || keyList.length > MAX_ENTRIES) throw new TypeError('store: [[writer, publicKey], ...]')
    for (const k of keyList) {
      if (!Array.isArray(k) || k.length !== 2 || !nodeId(k[0]) || !(k[1] instanceof Uint8Array) || k[1].length !== 32) throw new TypeError('store: a key is [writer, 32 bytes]')
      keys.set(k[0], k[1])
    }
  }
  const groups = groupList === undefined ? undefined : WireGroups.decode(groupList)
  const entries = decodeColumns(columns, bounds, groups)
  return { entries, keys }
}

/**
 * The groups one state-transfer message names, in order: a grouped write names its group's place
 * in the list and its own place in the group (the proofs and indexes columns; a checkpoint's
 * horizon write, which travels as a row: [group's place, write's place]). Each group goes as [writer, sig, size,
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
