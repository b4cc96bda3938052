import type { MessageClaim } from '../mesh/protocol.js'
import { isNodeId } from '../wire/base58.js'
import { packArray } from '../wire/payload.js'
import { HLC_MAX_COUNTER, type Hlc } from './hlc.js'
import type { Checkpoint, KeyState } from './key-state.js'
import { WRITE_KINDS, isMap, transferItems, type Write } from './write.js'

/**
 * The sync table's messages (docs/protocol.md, "Sync table"): 0.7's shapes with the writer's
 * hybrid clock appended, and the anti-entropy exchange. Every decoder validates hostile input.
 *
 * Flooded (broadcast route); `sig` (64 bytes) in the signed mode only:
 *   [0x0B store,   key, value | nil, ms, counter, sig?]   set (nil: delete); the writer is the origin
 *   [0x11 delta,   key, {field: value}, ms, counter, sig?]
 *   [0x10 revoke,  key, ms, counter, sig?]                 release
 * Neighbour to neighbour (whisper route):
 *   [0x14 reconcile, session, bytes]                 a range-based reconciliation message
 *   [0x0B store,   [[key, checkpoint | nil, [write, ...]], ...], [[writer, publicKey], ...]?]
 *                                                     state transfer, batched (signed mode: the writers' keys)
 *   [0x0C retrieve, session, []]                      an empty table asks for everything
 *   [0x0D retrieved, session, sent]                 the transfer of a session is complete
 */
export const SYNC_FLAGS = Object.freeze({ store: 0x0b, retrieve: 0x0c, retrieved: 0x0d, revoke: 0x10, delta: 0x11, reconcile: 0x14 })

export interface Bounds {
  maxKeyBytes: number
  maxValueBytes: number
}

export type SyncMessage =
  | { kind: 'write'; key: string; write: Omit<Write, 'writer'> }
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

/** A write as transferred: [kind, ms, counter, writer, value | nil, sig?]. */
export function decodeWrite(items: unknown, bounds: Bounds): Write {
  if (!Array.isArray(items) || items.length < 5 || items.length > 6) throw new TypeError('write: [kind, ms, counter, writer, value, sig?]')
  const [k, ms, counter, writer, value, sig] = items as unknown[]
  const kind = WRITE_KINDS[k as number]
  if (kind === undefined || !Number.isInteger(k)) throw new TypeError('write: unknown kind')
  if (!nodeId(writer)) throw new TypeError('write: writer is a node id')
  if (sig !== undefined && !(sig instanceof Uint8Array && sig.length === 64)) throw new TypeError('write: a signature is 64 bytes')
  const proof = sig === undefined ? {} : { sig }
  const s = stamp(ms, counter)
  if (kind === 'set' || kind === 'delta') {
    if (value === null || value === undefined) throw new TypeError(`write: a ${kind} has a value`)
    if (kind === 'delta' && !isMap(value)) throw new TypeError('write: a delta is a map')
    checkValue(value, bounds)
    return { kind, stamp: s, writer, value, ...proof }
  }
  if (value !== null) throw new TypeError(`write: a ${kind} has no value`)
  return { kind, stamp: s, writer, ...proof }
}

/** A checkpoint as transferred: [horizon, value | nil, ms | nil, counter | nil, writer | nil, owner | nil, leaseMs | nil, leaseCounter | nil, gen]. */
export function checkpointItems(c: Checkpoint): unknown[] {
  return [transferItems(c.horizon), c.value ?? null, c.stamp?.ms ?? null, c.stamp?.counter ?? null, c.writer ?? null, c.owner ?? null, c.leaseStamp?.ms ?? null, c.leaseStamp?.counter ?? null, c.gen]
}

function optionalId(v: unknown): string | undefined {
  if (v === null) return undefined
  if (!nodeId(v)) throw new TypeError('checkpoint: bad node id')
  return v
}

function optionalStamp(ms: unknown, counter: unknown): Hlc | undefined {
  return ms === null && counter === null ? undefined : stamp(ms, counter)
}

export function decodeCheckpoint(items: unknown, bounds: Bounds): Checkpoint {
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
  return { horizon: decodeWrite(horizon, bounds), value: value ?? undefined, stamp: s, writer: w, owner: o, leaseStamp: ls, gen: gen as number }
}

/** Entries are at most this many per message (the frame's item budget is 65 536). */
export const MAX_ENTRIES = 2_048

function decodeEntries(items: unknown[], bounds: Bounds): SyncMessage {
  const [list, keyList] = items
  if (items.length < 1 || items.length > 2 || !Array.isArray(list) || list.length > MAX_ENTRIES) throw new TypeError('store: [[key, checkpoint, writes], ...]')
  const keys = new Map<string, Uint8Array>()
  if (keyList !== undefined) {
    if (!Array.isArray(keyList) || keyList.length > MAX_ENTRIES) throw new TypeError('store: [[writer, publicKey], ...]')
    for (const k of keyList) {
      if (!Array.isArray(k) || k.length !== 2 || typeof k[0] !== 'string' || !isNodeId(k[0]) || !(k[1] instanceof Uint8Array) || k[1].length !== 32) throw new TypeError('store: a key is [writer, 32 bytes]')
      keys.set(k[0], k[1])
    }
  }
  return { kind: 'entries', entries: list.map((e) => decodeEntry(e, bounds)), keys }
}

/** One entry, [key, checkpoint | nil, [write, ...]] (as transferred, and as stored). */
export function decodeEntry(e: unknown, bounds: Bounds): [string, KeyState] {
  if (!Array.isArray(e) || e.length !== 3) throw new TypeError('store: an entry is [key, checkpoint, writes]')
  const [key, base, writes] = e as unknown[]
  checkKey(key, bounds)
  if (!Array.isArray(writes) || writes.length > 1_024) throw new TypeError('store: writes')
  return [key, { base: base === null ? undefined : decodeCheckpoint(base, bounds), log: writes.map((x) => decodeWrite(x, bounds)) }]
}

/** An entry as transferred. */
export function entryItems(key: string, state: KeyState): unknown[] {
  return [key, state.base === undefined ? null : checkpointItems(state.base), state.log.map(transferItems)]
}
