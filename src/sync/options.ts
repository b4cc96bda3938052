import { MeshError } from '../errors.js'
import type { MeshOptions } from '../mesh/options.js'

/** The sync table's own options (with the mesh's: SyncOptions). Every bound is in docs/LIMITS.md. */
export interface SyncTableOptions {
  /** Leases on (protocol id 'sync1', the default) or off ('sync0': last writer wins). Nodes of the two kinds never link. */
  leasing?: boolean
  /** A lease lasts at least this long after its owner's last write. Default 3 600 000 ms (one hour, as 0.7). */
  leaseMs?: number
  /**
   * A write stamped further ahead of this node's clock is held back until it is no further ahead
   * than this; the same margin is added to every lease, so a fast clock cannot take a key early.
   * Default 180 000 ms.
   */
  maxDriftMs?: number
  /** Longest key, UTF-8 bytes. Default 1 024. */
  maxKeyBytes?: number
  /** Largest value, msgpack bytes (a delta's fields included). Default 65 536. */
  maxValueBytes?: number
  /** Most keys (tombstones of deleted keys included). Default 100 000. */
  maxKeys?: number
  /** Writes remembered per key before the oldest are folded (docs/protocol.md). Default 32. */
  maxHistory?: number
  /** Reconcile with one random peer this often (besides every new link). Default 30 000 ms. */
  antiEntropyMs?: number
  /** Largest batch of entries in one message (msgpack bytes before compression). Default 16 384. */
  batchBytes?: number
  /**
   * A change waits this long for others before it is written to storage, in one transaction with
   * them (0: at the end of the task). 256 keys waiting, persisted() and close() write what waits
   * at once. Default 100 ms.
   */
  persistDelayMs?: number
  /** Writes held back for being stamped in the future, at most. Default 10 000. */
  maxHeldWrites?: number
}

export type SyncOptions = MeshOptions & SyncTableOptions

export const SYNC_DEFAULTS = Object.freeze({
  leasing: true,
  leaseMs: 3_600_000,
  maxDriftMs: 180_000,
  maxKeyBytes: 1_024,
  maxValueBytes: 65_536,
  maxKeys: 100_000,
  maxHistory: 32,
  antiEntropyMs: 30_000,
  batchBytes: 16_384,
  persistDelayMs: 100,
  maxHeldWrites: 10_000,
})

export type ResolvedSyncOptions = { -readonly [K in keyof typeof SYNC_DEFAULTS]: (typeof SYNC_DEFAULTS)[K] extends boolean ? boolean : number }

export function resolveSyncOptions(options: SyncTableOptions): ResolvedSyncOptions {
  const resolved: ResolvedSyncOptions = { ...SYNC_DEFAULTS }
  for (const name of Object.keys(SYNC_DEFAULTS) as (keyof ResolvedSyncOptions)[]) {
    const value = options[name]
    if (value === undefined) continue
    if (name === 'leasing') {
      if (typeof value !== 'boolean') throw new MeshError('INVALID_ARGUMENT', `option leasing must be a boolean, got ${String(value)}`)
      resolved.leasing = value
      continue
    }
    const min = name === 'maxDriftMs' || name === 'persistDelayMs' ? 0 : 1
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new MeshError('INVALID_ARGUMENT', `option ${name} must be an integer >= ${min}, got ${String(value)}`)
    }
    ;(resolved as Record<string, number | boolean>)[name] = value
  }
  return resolved
}
