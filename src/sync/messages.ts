import type { MessageClaim } from '../mesh/protocol.js'
import type { KeyState } from './key-state.js'
import { decodeTransfer } from './transfer.js'
import { MAX_GROUP, WRITE_KINDS, writeItems, type Write, type WriteKind } from './write.js'
import { checkKey, content, stamp, type Bounds } from './write-codec.js'

/**
 * The sync table's messages (docs/protocol.md, "Sync table"): 0.7's shapes with the writer's
 * hybrid clock appended, and the anti-entropy exchange. Every decoder validates hostile input;
 * writes and entries as items are write-codec.ts, the state transfer transfer.ts.
 *
 * Flooded (broadcast route); `sig` (64 bytes) in the signed mode only:
 *   [0x0B store,   key, value | nil, ms, counter, sig?]   set (nil: delete); the writer is the origin
 *   [0x11 delta,   key, {field: value}, ms, counter, sig?]
 *   [0x10 revoke,  key, ms, counter, sig?]                 release
 *   [0x15 batch,   [[key, kind, ms, counter, value | nil], ...], sig?]
 *                                                     writes made together (update()), one signature over their leaves
 * Neighbour to neighbour (whisper route):
 *   [0x14 reconcile, session, bytes]                 a range-based reconciliation message
 *   [0x0B store,   columns, [[writer, publicKey], ...]?, [group, ...]?]
 *                                                     state transfer, batched: the key states as 12 columns
 *                                                     (transfer.ts); signed mode: the writers' keys, and the
 *                                                     groups its grouped writes name: [writer, sig, size, [[level, index, node], ...]]
 *   [0x0C retrieve, session, []]                      an empty table asks for everything
 *   [0x0D retrieved, session, sent]                 the transfer of a session is complete
 */
export const SYNC_FLAGS = Object.freeze({ store: 0x0b, retrieve: 0x0c, retrieved: 0x0d, revoke: 0x10, delta: 0x11, reconcile: 0x14, batch: 0x15 })

export type SyncMessage =
  | { kind: 'write'; key: string; write: Omit<Write, 'writer'> }
  | { kind: 'batch'; writes: Array<[key: string, write: Omit<Write, 'writer'>]>; sig?: Uint8Array }
  | { kind: 'entries'; entries: Array<[key: string, state: KeyState]>; keys: Map<string, Uint8Array> }
  | { kind: 'reconcile'; session: number; bytes: Uint8Array }
  | { kind: 'retrieve'; session: number }
  | { kind: 'retrieved'; session: number; sent: number }

/** The claims of a sync table, with decoders bound to its limits. */
export function syncClaims(bounds: Bounds): MessageClaim<SyncMessage>[] {
  const F = SYNC_FLAGS
  return [
    { route: 'broadcast', sub: F.store, decode: (items) => decodeStore(items, bounds) },
    { route: 'broadcast', sub: F.delta, decode: (items) => decodeDelta(items, bounds) },
    { route: 'broadcast', sub: F.revoke, decode: (items) => decodeRevoke(items, bounds) },
    { route: 'broadcast', sub: F.batch, decode: (items) => decodeBatch(items, bounds) },
    { route: 'whisper', sub: F.reconcile, decode: decodeReconcile, urgent: true },
    { route: 'whisper', sub: F.store, decode: (items) => ({ kind: 'entries', ...decodeTransfer(items, bounds) }) },
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

/** A flooded single write of `kind` (checked as any write's content). */
function floodedWrite(kind: WriteKind, key: unknown, value: unknown, ms: unknown, counter: unknown, sig: { sig?: Uint8Array }, bounds: Bounds): SyncMessage {
  checkKey(key, bounds)
  return { kind: 'write', key, write: { ...content(WRITE_KINDS.indexOf(kind), value, bounds), stamp: stamp(ms, counter), ...sig } }
}

function decodeStore(items: unknown[], bounds: Bounds): SyncMessage {
  const [key, value, ms, counter] = items
  return floodedWrite(value === null ? 'delete' : 'set', key, value, ms, counter, signature(items, 4), bounds)
}

function decodeDelta(items: unknown[], bounds: Bounds): SyncMessage {
  const [key, fields, ms, counter] = items
  return floodedWrite('delta', key, fields, ms, counter, signature(items, 4), bounds)
}

function decodeRevoke(items: unknown[], bounds: Bounds): SyncMessage {
  const [key, ms, counter] = items
  return floodedWrite('release', key, null, ms, counter, signature(items, 3), bounds)
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

