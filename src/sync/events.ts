import { MeshError, SyncError } from '../errors.js'
import type { MeshEvents, MeshServices } from '../mesh/types.js'
import type { StorageFactory } from '../storage/adapter.js'
import { assertWireValues } from '../wire/payload.js'
import { FRAME_DEFAULTS } from '../wire/frame.js'
import type { Hlc } from './hlc.js'
import { leaseEnd, refusal, type Resolved, type SyncRules } from './key-state.js'
import { keyFits, valueBytes, type Bounds } from './write-codec.js'
import type { Change } from './table.js'
import type { WriteKind } from './write.js'

// The sync table's public types, and the pure parts of its socket: what a change tells the
// application, and whether a local write may be made.

/** What a key's last accepted write says (the `meta` of events and of `meta(key)`). */
export interface SyncMeta {
  /** The lease owner (leasing on), while the lease lasts by the writers' clocks; else undefined. */
  readonly owner: string | undefined
  /** When the owner's lease ends at the earliest (ms since the epoch); undefined without an owner. */
  readonly expiresAt: number | undefined
  /** The node whose write this is. */
  readonly writer: string
  /** The write's time (its hybrid clock's milliseconds since the epoch). */
  readonly time: number
  /** The write's full hybrid timestamp: with `writer`, orders every write of the table. */
  readonly stamp: Hlc
  /** The key's generation: accepted writes so far (a fencing token: never lower on a later write). */
  readonly gen: number
  /** Where the change came from: this node, a flooded write, anti-entropy, or storage at start. */
  readonly source: 'local' | 'remote' | 'sync' | 'restore'
}

export type SyncEvents = MeshEvents & {
  /** A key got a value (set, delta, or a state learned from a peer or storage). */
  update: [key: string, value: unknown, meta: SyncMeta]
  /** A key was deleted. */
  delete: [key: string, meta: SyncMeta]
  /** A write of this node was overruled (after a partition healed: another node held the key), or its lease passed to another node. */
  conflict: [key: string, mine: unknown, winner: SyncMeta | undefined]
}

export interface SyncServices extends MeshServices {
  /** Where the table is kept (the package entry gives IndexedDB); without it the table lives in memory. */
  storage?: StorageFactory
}

/** Counters of what the table refused or dropped. */
export interface SyncStats {
  keys: number
  /** Remote writes the lease rule refused (as every replica does). */
  refused: number
  /** Remote writes older than a key's remembered history. */
  stale: number
  /** Remote writes or keys over a bound (key, value, number of keys, held writes): dropped and reported. */
  oversize: number
  /** Signed mode: remote writes without a valid signature of their writer (each reported). */
  forged: number
  /** Writes held back for a future stamp, now. */
  held: number
  reconciliations: number
  entriesSent: number
  entriesReceived: number
  /** Bytes of reconciliation messages sent and received (before framing and compression). */
  reconcileBytes: number
  /** Signed mode: writers' signatures this node checked (one per single write, one per group of writes made together). */
  signatureChecks: number
}


/** A key's resolved state as the application sees it at `now`. */
export function metaOf(r: Resolved, rules: SyncRules, now: number, source: SyncMeta['source']): SyncMeta {
  const end = leaseEnd(r, rules)
  const live = end !== undefined && end > now
  return { owner: live ? r.owner : undefined, expiresAt: live ? end : undefined, writer: r.writer ?? '', time: r.stamp?.ms ?? 0, stamp: r.stamp ?? { ms: 0, counter: 0 }, gen: r.gen, source }
}

export type SyncEvent =
  | { event: 'update'; key: string; value: unknown; meta: SyncMeta }
  | { event: 'delete'; key: string; meta: SyncMeta }
  | { event: 'conflict'; key: string; mine: unknown; winner: SyncMeta | undefined }

/**
 * The events one change makes: 'update' or 'delete' when the key's last accepted write changed,
 * and one 'conflict' when a write of `me` is now refused (a heal) or its lease passed to another.
 */
export function eventsOf(change: Change, me: string | undefined, meta: (r: Resolved) => SyncMeta): SyncEvent[] {
  const { key, before, after } = change
  const out: SyncEvent[] = []
  if (after.writer !== undefined && (before?.stamp !== after.stamp || before?.writer !== after.writer)) {
    if (after.value !== undefined) out.push({ event: 'update', key, value: after.value, meta: meta(after) })
    else if (before?.value !== undefined) out.push({ event: 'delete', key, meta: meta(after) })
  }
  if (me === undefined) return out
  const overruled = after.refused.filter((w) => w.writer === me && !(before?.refused.includes(w) ?? false))
  const taken = before?.owner === me && after.owner !== undefined && after.owner !== me
  if (overruled.length > 0 || taken) {
    const mine = overruled.length > 0 ? overruled[overruled.length - 1]!.value : before?.value
    out.push({ event: 'conflict', key, mine, winner: after.writer === undefined ? undefined : meta(after) })
  }
  return out
}

export interface WriteCheck {
  key: unknown
  kind: WriteKind
  value: unknown
  stamp: Hlc
  writer: string
  /** The key's state now, if it has one. */
  current: Resolved | undefined
  /** Whether a new key would be past maxKeys. */
  full: boolean
  bounds: Bounds
  maxKeys: number
  rules: SyncRules
}

/** Throws the named error a local write gets (nothing is sent then), or returns. */
export function checkLocalWrite(c: WriteCheck): void {
  const { key, bounds, current } = c
  if (typeof key !== 'string') throw new MeshError('INVALID_ARGUMENT', 'a key is a string')
  if (!keyFits(key, bounds.maxKeyBytes)) throw new SyncError('KEY_TOO_LARGE', `key over ${bounds.maxKeyBytes} bytes (maxKeyBytes)`, { key })
  if (c.value !== undefined) {
    assertWireValues([c.value], FRAME_DEFAULTS)
    const bytes = valueBytes(c.value)
    if (bytes > bounds.maxValueBytes) throw new SyncError('VALUE_TOO_LARGE', `value of ${bytes} bytes, over ${bounds.maxValueBytes} (maxValueBytes)`, { key })
  }
  if (c.full) throw new SyncError('TOO_MANY_KEYS', `the table holds ${c.maxKeys} keys (maxKeys)`, { key })
  if (current === undefined) return
  const why = refusal(current, { kind: c.kind, stamp: c.stamp, writer: c.writer, value: c.value }, c.rules)
  if (why === 'not-a-map') throw new SyncError('NOT_A_MAP', `applyDelta: the value of ${JSON.stringify(key)} is not a map`, { key })
  if (why === undefined) return
  const expiresAt = leaseEnd(current, c.rules)
  throw new SyncError('LEASE_HELD', `${current.owner ?? '?'} holds ${JSON.stringify(key)} until at least ${new Date(expiresAt ?? 0).toISOString()}`, {
    key,
    ...(current.owner === undefined ? {} : { owner: current.owner }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  })
}
