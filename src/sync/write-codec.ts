import { isNodeId } from '../wire/base58.js'
import { packArray } from '../wire/payload.js'
import { HLC_MAX_COUNTER, type Hlc } from './hlc.js'
import type { Checkpoint, KeyState } from './key-state.js'
import { WRITE_KINDS, isMap, transferItems, type Write, type WriteGroup } from './write.js'

/**
 * The sync table's writes, checkpoints and entries as items (docs/protocol.md, "Sync table" →
 * "Messages"): their encoding, and decoders that validate hostile input (bounds, stamps, node ids).
 * Used by the messages (messages.ts, transfer.ts) and by storage (persister.ts).
 */

export interface Bounds {
  maxKeyBytes: number
  maxValueBytes: number
}

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

export function checkValue(value: unknown, bounds: Bounds): void {
  // A string is at most 3 UTF-8 bytes a UTF-16 unit after a 5-byte header: encode only when in doubt.
  if (typeof value === 'string' && value.length * 3 + 5 <= bounds.maxValueBytes) return
  if (valueBytes(value) > bounds.maxValueBytes) throw new RangeError(`value over ${bounds.maxValueBytes} bytes`)
}

/** Node ids that passed `isNodeId` lately: a table's writes come from few writers, checked once each. */
const knownIds = new Set<string>()
const KNOWN_IDS = 1_024

/** `isNodeId`, remembering the ids that pass (a bounded set, emptied when full). */
export function nodeId(v: unknown): v is string {
  if (typeof v !== 'string') return false
  if (knownIds.has(v)) return true
  if (!isNodeId(v)) return false
  if (knownIds.size >= KNOWN_IDS) knownIds.clear()
  knownIds.add(v)
  return true
}

/** A write's kind and value from hostile input (a set and a delta have a value, a delta's is a map; the others have none). */
export function content(k: unknown, value: unknown, bounds: Bounds): { kind: Write['kind']; value?: unknown } {
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
