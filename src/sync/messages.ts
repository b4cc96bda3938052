import type { MessageClaim } from '../mesh/protocol.js'
import { isNodeId } from '../wire/base58.js'
import { packArray } from '../wire/payload.js'
import { HLC_MAX_COUNTER, type Hlc } from './hlc.js'
import type { Checkpoint, KeyState } from './key-state.js'
import { GroupTree, NODE_BYTES } from './group-tree.js'
import { MAX_GROUP, WRITE_KINDS, isMap, transferItems, writeItems, type Write, type WriteGroup } from './write.js'

/**
 * The sync table's messages (docs/protocol.md, "Sync table"): 0.7's shapes with the writer's
 * hybrid clock appended, and the anti-entropy exchange. Every decoder validates hostile input.
 *
 * Flooded (broadcast route); `sig` (64 bytes) in the signed mode only:
 *   [0x0B store,   key, value | nil, ms, counter, sig?]   set (nil: delete); the writer is the origin
 *   [0x11 delta,   key, {field: value}, ms, counter, sig?]
 *   [0x10 revoke,  key, ms, counter, sig?]                 release
 *   [0x15 batch,   [[key, kind, ms, counter, value | nil], ...], sig?]
 *                                                     writes made together (update()), one signature over their leaves
 * Neighbour to neighbour (whisper route):
 *   [0x14 reconcile, session, bytes]                 a range-based reconciliation message
 *   [0x0B store,   [[key, checkpoint | nil, [write, ...]], ...], [[writer, publicKey], ...]?, [group, ...]?]
 *                                                     state transfer, batched (signed mode: the writers' keys,
 *                                                     and the groups its grouped writes name: [writer, sig, size, [[level, index, node], ...]])
 *   [0x0C retrieve, session, []]                      an empty table asks for everything
 *   [0x0D retrieved, session, sent]                 the transfer of a session is complete
 */
export const SYNC_FLAGS = Object.freeze({ store: 0x0b, retrieve: 0x0c, retrieved: 0x0d, revoke: 0x10, delta: 0x11, reconcile: 0x14, batch: 0x15 })

export interface Bounds {
  maxKeyBytes: number
  maxValueBytes: number
}

export type SyncMessage =
  | { kind: 'write'; key: string; write: Omit<Write, 'writer'> }
  | { kind: 'batch'; writes: Array<[key: string, write: Omit<Write, 'writer'>]>; sig?: Uint8Array }
  | { kind: 'entries'; entries: Array<[key: string, state: KeyState]>; keys: Map<string, Uint8Array> }
  | { kind: 'reconcile'; session: number; bytes: Uint8Array }
  | { kind: 'retrieve'; session: number }
  | { kind: 'retrieved'; session: number; sent: number }

const encoder = new TextEncoder()

/** Whether a key's UTF-8 form fits `max` bytes (a UTF-16 unit is 1 to 3 UTF-8 bytes: encode only when in doubt). */
export function keyFits(key: string, max: number): boolean {
  return key.length * 3 <= max || (key.length <= max && encoder.encode(key).length <= max)
}

/** Throws unless `key` is a string within the bound. */
export function checkKey(key: unknown, bounds: Bounds): asserts key is string {
  if (typeof key !== 'string') throw new TypeError('a key is a string')
  if (!keyFits(key, bounds.maxKeyBytes)) throw new RangeError(`key over ${bounds.maxKeyBytes} bytes`)
}

/** msgpack size of a value. */
export function valueBytes(value: unknown): number {
  return packArray([value]).length - 1
}

/** A stamp from hostile input. */
export function stamp(ms: unknown, counter: unknown): Hlc {
  if (!Number.isSafeInteger(ms) || (ms as number) < 0) throw new TypeError('bad stamp')
  if (!Number.isSafeInteger(counter) || (counter as number) < 0 || (counter as number) > HLC_MAX_COUNTER) throw new TypeError('bad stamp counter')
  return { ms: ms as number, counter: counter as number }
}

function checkValue(value: unknown, bounds: Bounds): void {
  // A string is at most 3 UTF-8 bytes a UTF-16 unit after a 5-byte header: encode only when in doubt.
  if (typeof value === 'string' && value.length * 3 + 5 <= bounds.maxValueBytes) return
  if (valueBytes(value) > bounds.maxValueBytes) throw new RangeError(`value over ${bounds.maxValueBytes} bytes`)
}

/** Node ids that passed `isNodeId` lately: a table's writes come from few writers, checked once each. */
const knownIds = new Set<string>()
const KNOWN_IDS = 1_024

/** `isNodeId`, remembering the ids that pass (a bounded set, emptied when full). */
function nodeId(v: unknown): v is string {
  if (typeof v !== 'string') return false
  if (knownIds.has(v)) return true
  if (!isNodeId(v)) return false
  if (knownIds.size >= KNOWN_IDS) knownIds.clear()
  knownIds.add(v)
  return true
}

/** The claims of a sync table, with decoders bound to its limits. */
export function syncClaims(bounds: Bounds): MessageClaim<SyncMessage>[] {
  const F = SYNC_FLAGS
  return [
    { route: 'broadcast', sub: F.store, decode: (items) => decodeStore(items, bounds) },
    { route: 'broadcast', sub: F.delta, decode: (items) => decodeDelta(items, bounds) },
    { route: 'broadcast', sub: F.revoke, decode: (items) => decodeRevoke(items, bounds) },
    { route: 'broadcast', sub: F.batch, decode: (items) => decodeBatch(items, bounds) },
    { route: 'whisper', sub: F.reconcile, decode: decodeReconcile, urgent: true },
    { route: 'whisper', sub: F.store, decode: (items) => decodeEntries(items, bounds) },
    { route: 'whisper', sub: F.retrieve, decode: decodeRetrieve, urgent: true },
    { route: 'whisper', sub: F.retrieved, decode: decodeRetrieved, urgent: true },
  ]
}

/** The optional signature after `n` items. */
function signature(items: unknown[], n: number): { sig?: Uint8Array } {
  if (items.length === n) return {}
  const sig = items[n]
  if (items.length !== n + 1 || !(sig instanceof Uint8Array) || sig.length !== 64) throw new TypeError('a write ends with an optional 64-byte signature')
  return { sig }
}

function decodeStore(items: unknown[], bounds: Bounds): SyncMessage {
  const [key, value, ms, counter] = items
  const sig = signature(items, 4)
  checkKey(key, bounds)
  const s = stamp(ms, counter)
  if (value === null || value === undefined) return { kind: 'write', key, write: { kind: 'delete', stamp: s, ...sig } }
  checkValue(value, bounds)
  return { kind: 'write', key, write: { kind: 'set', stamp: s, value, ...sig } }
}

function decodeDelta(items: unknown[], bounds: Bounds): SyncMessage {
  const [key, fields, ms, counter] = items
  const sig = signature(items, 4)
  if (!isMap(fields)) throw new TypeError('delta: [key, {fields}, ms, counter]')
  checkKey(key, bounds)
  checkValue(fields, bounds)
  return { kind: 'write', key, write: { kind: 'delta', stamp: stamp(ms, counter), value: fields, ...sig } }
}

function decodeRevoke(items: unknown[], bounds: Bounds): SyncMessage {
  const [key, ms, counter] = items
  const sig = signature(items, 3)
  checkKey(key, bounds)
  return { kind: 'write', key, write: { kind: 'release', stamp: stamp(ms, counter), ...sig } }
}

/** A write's kind and value from hostile input (a set and a delta have a value, a delta's is a map; the others have none). */
function content(k: unknown, value: unknown, bounds: Bounds): { kind: Write['kind']; value?: unknown } {
  const kind = WRITE_KINDS[k as number]
  if (kind === undefined || !Number.isInteger(k)) throw new TypeError('write: unknown kind')
  if (kind === 'set' || kind === 'delta') {
    if (value === null || value === undefined) throw new TypeError(`write: a ${kind} has a value`)
    if (kind === 'delta' && !isMap(value)) throw new TypeError('write: a delta is a map')
    checkValue(value, bounds)
    return { kind, value }
  }
  if (value !== null) throw new TypeError(`write: a ${kind} has no value`)
  return { kind }
}

function decodeBatch(items: unknown[], bounds: Bounds): SyncMessage {
  const [list] = items
  const sig = signature(items, 1)
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_GROUP) throw new TypeError(`batch: 1 to ${MAX_GROUP} writes`)
  const writes = list.map((w): [string, Omit<Write, 'writer'>] => {
    if (!Array.isArray(w) || w.length !== 5) throw new TypeError('batch: a write is [key, kind, ms, counter, value | nil]')
    const [key, k, ms, counter, value] = w as unknown[]
    checkKey(key, bounds)
    return [key, { ...content(k, value, bounds), stamp: stamp(ms, counter) }]
  })
  return { kind: 'batch', writes, ...sig }
}

/** The items of a flooded batch write: [key, kind, ms, counter, value | nil]. */
export function batchItems(key: string, w: Write): unknown[] {
  const [kind, ms, counter, , value] = writeItems(w)
  return [key, kind, ms, counter, value]
}

function session(v: unknown): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > 0xffff_ffff) throw new TypeError('bad session')
  return v as number
}

function decodeReconcile(items: unknown[]): SyncMessage {
  const [s, bytes] = items
  if (items.length !== 2 || !(bytes instanceof Uint8Array)) throw new TypeError('reconcile: [session, bytes]')
  return { kind: 'reconcile', session: session(s), bytes }
}

function decodeRetrieve(items: unknown[]): SyncMessage {
  const [s, ids] = items
  if (items.length !== 2 || !Array.isArray(ids) || ids.length !== 0) throw new TypeError('retrieve: [session, []]')
  return { kind: 'retrieve', session: session(s) }
}

function decodeRetrieved(items: unknown[]): SyncMessage {
  const [s, sent] = items
  if (items.length !== 2 || !Number.isSafeInteger(sent) || (sent as number) < 0) throw new TypeError('retrieved: [session, sent]')
  return { kind: 'retrieved', session: session(s), sent: sent as number }
}

// ---- state transfer ---------------------------------------------------------------------------

/**
 * How a batch of entries names the groups of its grouped writes: on the wire by their place in
 * the message's group list (`WireGroups`), in storage by their signature (persister.ts).
 */
export interface GroupCodec {
  /** The proof item of a write at `index` in `group`. */
  encode(group: WriteGroup, index: number): unknown
  /** The group and place a proof item names; throws if it names none of this writer's. */
  decode(proof: unknown, writer: string): { group: WriteGroup; index: number }
}

/** A write as transferred: [kind, ms, counter, writer, value | nil, proof?] (proof: a 64-byte signature or a group reference). */
export function decodeWrite(items: unknown, bounds: Bounds, groups?: GroupCodec): Write {
  if (!Array.isArray(items) || items.length < 5 || items.length > 6) throw new TypeError('write: [kind, ms, counter, writer, value, proof?]')
  const [k, ms, counter, writer, value, proof] = items as unknown[]
  if (!nodeId(writer)) throw new TypeError('write: writer is a node id')
  const c = content(k, value, bounds)
  const w: Write = { ...c, stamp: stamp(ms, counter), writer }
  if (proof === undefined) return w
  if (proof instanceof Uint8Array) {
    if (proof.length !== 64) throw new TypeError('write: a signature is 64 bytes')
    return { ...w, sig: proof }
  }
  if (groups === undefined) throw new TypeError('write: a group reference without groups')
  return { ...w, ...groups.decode(proof, writer) }
}

/** A checkpoint as transferred: [horizon, value | nil, ms | nil, counter | nil, writer | nil, owner | nil, leaseMs | nil, leaseCounter | nil, gen]. */
export function checkpointItems(c: Checkpoint, groups?: GroupCodec): unknown[] {
  return [transferItems(c.horizon, groups && ((g, i) => groups.encode(g, i))), c.value ?? null, c.stamp?.ms ?? null, c.stamp?.counter ?? null, c.writer ?? null, c.owner ?? null, c.leaseStamp?.ms ?? null, c.leaseStamp?.counter ?? null, c.gen]
}

function optionalId(v: unknown): string | undefined {
  if (v === null) return undefined
  if (!nodeId(v)) throw new TypeError('checkpoint: bad node id')
  return v
}

function optionalStamp(ms: unknown, counter: unknown): Hlc | undefined {
  return ms === null && counter === null ? undefined : stamp(ms, counter)
}

export function decodeCheckpoint(items: unknown, bounds: Bounds, groups?: GroupCodec): Checkpoint {
  if (!Array.isArray(items) || items.length !== 9) throw new TypeError('checkpoint: 9 items')
  const [horizon, value, ms, counter, writer, owner, leaseMs, leaseCounter, gen] = items as unknown[]
  if (!Number.isSafeInteger(gen) || (gen as number) < 0) throw new TypeError('checkpoint: bad gen')
  if (value !== null) checkValue(value, bounds)
  const s = optionalStamp(ms, counter)
  const w = optionalId(writer)
  if ((s === undefined) !== (w === undefined)) throw new TypeError('checkpoint: stamp and writer go together')
  const ls = optionalStamp(leaseMs, leaseCounter)
  const o = optionalId(owner)
  if ((ls === undefined) !== (o === undefined)) throw new TypeError('checkpoint: owner and lease stamp go together')
  return { horizon: decodeWrite(horizon, bounds, groups), value: value ?? undefined, stamp: s, writer: w, owner: o, leaseStamp: ls, gen: gen as number }
}

/** Entries are at most this many per message (the frame's item budget is 65 536). */
export const MAX_ENTRIES = 2_048

function decodeEntries(items: unknown[], bounds: Bounds): SyncMessage {
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
  return { kind: 'entries', entries: list.map((e) => decodeEntry(e, bounds, groups)), keys }
}

/** One entry, [key, checkpoint | nil, [write, ...]] (as transferred, and as stored). */
export function decodeEntry(e: unknown, bounds: Bounds, groups?: GroupCodec): [string, KeyState] {
  if (!Array.isArray(e) || e.length !== 3) throw new TypeError('store: an entry is [key, checkpoint, writes]')
  const [key, base, writes] = e as unknown[]
  checkKey(key, bounds)
  if (!Array.isArray(writes) || writes.length > 1_024) throw new TypeError('store: writes')
  return [key, { base: base === null ? undefined : decodeCheckpoint(base, bounds, groups), log: writes.map((x) => decodeWrite(x, bounds, groups)) }]
}

/** An entry as transferred. */
export function entryItems(key: string, state: KeyState, groups?: GroupCodec): unknown[] {
  const ref = groups && ((g: WriteGroup, i: number) => groups.encode(g, i))
  return [key, state.base === undefined ? null : checkpointItems(state.base, groups), state.log.map((w) => transferItems(w, ref))]
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
