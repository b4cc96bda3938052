import { binaryKey } from '../util/bytes.js'
import { keyStateDigest, type KeyState } from './key-state.js'
import { listId } from './rbsr-codec.js'
import { MAX_TRANSFER_WRITES, transferColumns, WireGroups } from './transfer.js'
import { checkpointItems, MAX_ENTRIES, valueBytes } from './write-codec.js'
import type { Table } from './table.js'
import { MAX_GROUP, type Write, type WriteGroup } from './write.js'

/** One state-transfer message's worth of key states, as columns, and the writers whose writes they hold. */
export interface EntryBatch {
  /** The states as transferred (`transferColumns`). */
  readonly columns: unknown[]
  /** How many keys. */
  readonly count: number
  readonly writers: Set<string>
  /** The groups its grouped writes name (signed mode). */
  readonly groups: WireGroups
}

/**
 * The keys' states as transferred, cut into batches of about `batchBytes` (msgpack, estimated
 * without encoding), at most MAX_ENTRIES keys, writers and groups and MAX_TRANSFER_WRITES writes
 * each. Keys no longer in the table are left out. `peerStates`: the list ids (rbsr-codec `listId`) of the peer's key
 * states that the reconciliation listed (`binaryKey`); a key whose state there is an earlier
 * state of ours goes with the writes after it only. `since` (a tail session's lower bound): each
 * state goes with its writes at least that new only (`recentPart`).
 */
export function* entryBatches(table: Table, keys: Iterable<string>, batchBytes: number, peerStates?: ReadonlySet<string>, since?: number): Generator<EntryBatch> {
  let states: Array<[string, KeyState]> = []
  let writers = new Set<string>()
  let named = new Set<WriteGroup>()
  let [bytes, writes] = [0, 0]
  /** The batch so far, as sent; the next one starts empty. */
  const take = (): EntryBatch => {
    const groups = new WireGroups()
    const batch = { columns: transferColumns(states, groups), count: states.length, writers, groups }
    ;[states, writers, named, bytes, writes] = [[], new Set(), new Set(), 0, 0]
    return batch
  }
  for (const key of keys) {
    const row = table.row(key)
    if (row === undefined) continue
    const known = peerStates === undefined || peerStates.size === 0 ? row.state : unknownPart(key, row.state, peerStates)
    const state = since === undefined ? known : recentPart(known, since)
    if (states.length > 0 && writes + state.log.length > MAX_TRANSFER_WRITES) yield take()
    states.push([key, state])
    writes += state.log.length
    for (const w of state.base === undefined ? state.log : [state.base.horizon, ...state.log]) {
      writers.add(w.writer)
      if (w.group !== undefined) named.add(w.group)
    }
    bytes += columnBytes(key, state)
    if (bytes >= batchBytes || states.length >= MAX_ENTRIES || writers.size >= MAX_ENTRIES || named.size >= MAX_ENTRIES) yield take()
  }
  if (states.length > 0) yield take()
}

/**
 * The part of a key's state a peer lacks, when the peer's state is one of ours before its last
 * writes (a key changed while apart: the peer has its old writes): those last writes; else all.
 * Merging is a union of writes, so the peer ends with the whole state either way.
 */
export function unknownPart(key: string, state: KeyState, peerStates: ReadonlySet<string>): KeyState {
  for (let p = state.log.length - 1; p >= 0; p--) {
    if (peerStates.has(binaryKey(listId(keyStateDigest(key, { base: state.base, log: state.log.slice(0, p) }))))) return { base: undefined, log: state.log.slice(p) }
  }
  return state
}

/**
 * A key's writes newer than `since` (its checkpoint and older writes left out; all of it when
 * none is newer, or when its checkpoint is), for a session that reconciled only the items from
 * `since` on: what changed while two nodes were apart sits there, and the peer most likely holds
 * the rest already (writes of `since`'s own millisecond too: a group of writes shares one).
 * Merging is a union, so the peer is no worse off than after a flood of those writes; if it
 * lacked an older write, its state still differs from ours and the session of the whole set that
 * follows sends the key whole.
 */
export function recentPart(state: KeyState, since: number): KeyState {
  // A checkpoint folds writes up to its horizon: one newer than `since` goes along, as does all.
  if ((state.base?.horizon.stamp.ms ?? -Infinity) > since || (state.base === undefined && (state.log[0]?.stamp.ms ?? Infinity) > since)) return state
  const log = state.log.filter((w) => w.stamp.ms > since)
  return log.length === 0 ? state : { base: undefined, log }
}

/** About what a key's state adds to a batch's columns (msgpack, before deflate), without encoding it. */
function columnBytes(key: string, state: KeyState): number {
  let n = key.length + 2 + (state.base === undefined ? 0 : approximateBytes(checkpointItems(state.base)))
  for (const w of state.log) n += 8 + (w.value === undefined ? 1 : approximateBytes(w.value)) + (w.sig === undefined ? 0 : 66) + (w.group === undefined ? 0 : 3)
  return n
}

/** A quick upper estimate of a value's msgpack size, without encoding it. */
function approximateBytes(v: unknown): number {
  if (typeof v === 'string') return v.length + 5 // exact for ASCII; a batch of other text runs up to 3× over
  if (v instanceof Uint8Array) return v.length + 5
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + approximateBytes(x), 1)
  if (typeof v === 'object' && v !== null) return Object.entries(v).reduce((n, [k, x]) => n + k.length * 3 + 5 + approximateBytes(x), 1)
  return 9
}

/**
 * `keys` in the order of their newest write's group and place in it: a batch then carries runs of
 * one group's writes, whose multiproof is a few tree nodes (scattered, a third of a 1,000-write
 * group needs ~320). Keys whose newest write is not grouped come first, by that write's writer
 * and stamp: the order they were written in, whatever order this node learnt them in, so that
 * the columns' differences stay small (a node that took a table from floods of two writers at
 * once sent it 1.5× larger in the order it held the keys).
 */
export function byGroup(table: Table, keys: readonly string[]): string[] {
  const rank = new Map<WriteGroup, number>()
  const placed = keys.map((key) => {
    const log = table.row(key)?.state.log
    const w = log?.[log.length - 1]
    if (w?.group === undefined) return { key, rank: -1, index: 0, w }
    let r = rank.get(w.group)
    if (r === undefined) rank.set(w.group, (r = rank.size))
    return { key, rank: r, index: w.index!, w }
  })
  placed.sort((a, b) => a.rank - b.rank || a.index - b.index || (a.rank < 0 && a.w !== undefined && b.w !== undefined ? byWrite(a.w, b.w) : 0))
  return placed.map((p) => p.key)
}

/** By writer, then stamp. */
function byWrite(a: Write, b: Write): number {
  if (a.writer !== b.writer) return a.writer < b.writer ? -1 : 1
  return a.stamp.ms - b.stamp.ms || a.stamp.counter - b.stamp.counter
}

/** A flooded batch of writes (update()) holds about this many bytes at most (a larger write goes alone). */
export const BATCH_FLOOD_BYTES = 131_072

/** Local writes cut into flooded batches of at most MAX_GROUP writes and about `bytes` (a write over it goes alone). */
export function* writeBatches<T extends { readonly key: string; readonly write: Write }>(writes: readonly T[], bytes: number): Generator<T[]> {
  let batch: T[] = []
  let size = 0
  for (const item of writes) {
    const { value } = item.write
    const n = item.key.length + (value === undefined ? 1 : typeof value === 'string' ? value.length : valueBytes(value)) + 16
    if (batch.length > 0 && (batch.length >= MAX_GROUP || size + n > bytes)) {
      yield batch
      batch = []
      size = 0
    }
    batch.push(item)
    size += n
  }
  if (batch.length > 0) yield batch
}
