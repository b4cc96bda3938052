import type { Hlc } from './hlc.js'
import { canonical, compareBytes, compareWrites, hashItems, isMap, writeDigest, writeStatement, type Write } from './write.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { packArray } from '../wire/payload.js'

/**
 * The merge and lease rules of the sync table, pure (docs/protocol.md, "Sync table: the rules").
 *
 * A key's state is the set of writes a replica holds for it: a log in the total order of
 * `compareWrites`, after a checkpoint that folds the oldest ones. What the table shows is the
 * replay of that log from the checkpoint, each write judged by the lease rule against the state
 * the writes before it left. Replay depends only on the set, so replicas holding the same writes
 * agree, whatever order they came in; merging two states is a union (then folding), so replicas
 * that exchange states converge.
 */
export interface SyncRules {
  /** Leases on ('sync1') or off ('sync0': last writer wins). */
  readonly leasing: boolean
  /** A lease lasts this long after its owner's last write. */
  readonly leaseMs: number
  /** How far ahead of a replica's clock a write's stamp may be; also the margin added to every lease. */
  readonly maxDriftMs: number
  /** Writes kept per key; older ones are folded into the checkpoint (and refused as stale if they come again). */
  readonly maxHistory: number
}

/** What the folded writes left: the replay state after the newest of them (`horizon`). */
export interface Checkpoint extends Replayed {
  /** The newest folded write: a write at or before it in the order is history. */
  readonly horizon: Write
}

/** The state a replay reaches. */
export interface Replayed {
  /** undefined: the key is absent (never written, or deleted: a tombstone). */
  readonly value: unknown
  /** The last accepted write's stamp and writer. */
  readonly stamp: Hlc | undefined
  readonly writer: string | undefined
  /** The lease owner (leasing on): the last accepted writer, unless it deleted or released. */
  readonly owner: string | undefined
  /** The owner's last write: the lease runs from here. */
  readonly leaseStamp: Hlc | undefined
  /** Accepted writes so far: the key's fencing token, never lower on a later state of a replica. */
  readonly gen: number
}

export interface KeyState {
  readonly base: Checkpoint | undefined
  /** Sorted by compareWrites, no duplicates, all after base.horizon. */
  readonly log: readonly Write[]
}

/** The replay result: what the table shows for the key, and which logged writes the rules refused. */
export interface Resolved extends Replayed {
  readonly refused: readonly Write[]
}

export type Refusal = 'lease' | 'not-owner' | 'not-a-map' | 'no-lease'

export const EMPTY_KEY: KeyState = Object.freeze({ base: undefined, log: Object.freeze([]) as readonly Write[] })

const START: Replayed = Object.freeze({ value: undefined, stamp: undefined, writer: undefined, owner: undefined, leaseStamp: undefined, gen: 0 })

/** When the state's lease ends (ms on the writers' clocks), or undefined when nobody holds it. */
export function leaseEnd(state: Replayed, rules: SyncRules): number | undefined {
  if (!rules.leasing || state.owner === undefined || state.leaseStamp === undefined) return undefined
  return state.leaseStamp.ms + rules.leaseMs + rules.maxDriftMs
}

/**
 * The lease rule: why `w` may not follow `state`, or undefined when it may.
 * 1. With leasing off, any set, delete or delta is accepted (release means nothing).
 * 2. A release is accepted from the owner only.
 * 3. Otherwise a write is accepted from the owner, on a key nobody owns, or once the owner's
 *    lease has ended by the writer's own stamp: `w.stamp.ms >= leaseStamp.ms + leaseMs + maxDriftMs`.
 * 4. A delta needs a map (or an absent key) to merge into.
 */
export function refusal(state: Replayed, w: Write, rules: SyncRules): Refusal | undefined {
  if (w.kind === 'delta' && state.value !== undefined && !isMap(state.value)) return 'not-a-map'
  if (!rules.leasing) return w.kind === 'release' ? 'no-lease' : undefined
  if (w.kind === 'release') return state.owner === w.writer ? undefined : 'not-owner'
  if (state.owner === undefined || state.owner === w.writer) return undefined
  const end = leaseEnd(state, rules)
  return end !== undefined && w.stamp.ms < end ? 'lease' : undefined
}

/** The state after an accepted write. */
export function applyWrite(state: Replayed, w: Write, rules: SyncRules): Replayed {
  let value = state.value
  let owner: string | undefined = rules.leasing ? w.writer : undefined
  let leaseStamp: Hlc | undefined = rules.leasing ? w.stamp : undefined
  switch (w.kind) {
    case 'set':
      value = w.value
      break
    case 'delete':
      value = undefined
      owner = leaseStamp = undefined // deleting gives the key up, as in 0.7
      break
    case 'delta':
      value = { ...(isMap(state.value) ? state.value : {}), ...(w.value as Record<string, unknown>) }
      break
    case 'release':
      owner = leaseStamp = undefined
      break
  }
  return { value, stamp: w.stamp, writer: w.writer, owner, leaseStamp, gen: state.gen + 1 }
}

/** Replays the log from the checkpoint. */
export function resolve(key: KeyState, rules: SyncRules): Resolved {
  let state: Replayed = key.base ?? START
  const refused: Write[] = []
  for (const w of key.log) {
    if (refusal(state, w, rules) === undefined) state = applyWrite(state, w, rules)
    else refused.push(w)
  }
  return { ...state, refused }
}

export type InsertOutcome = 'added' | 'duplicate' | 'stale'

/** Adds one write. 'stale': at or before the checkpoint's horizon (history already folded), not added. */
export function insertWrite(key: KeyState, w: Write, rules: SyncRules): { key: KeyState; outcome: InsertOutcome } {
  if (key.base !== undefined && compareWrites(w, key.base.horizon) <= 0) return { key, outcome: 'stale' }
  const log = key.log
  // Writes mostly arrive newest: search from the end.
  let i = log.length
  while (i > 0 && compareWrites(log[i - 1]!, w) > 0) i--
  if (i > 0 && compareWrites(log[i - 1]!, w) === 0) return { key, outcome: 'duplicate' }
  const next = [...log.slice(0, i), w, ...log.slice(i)]
  return { key: fold({ base: key.base, log: next }, rules), outcome: 'added' }
}

/** Folds the oldest writes into the checkpoint while the log is longer than maxHistory. */
export function fold(key: KeyState, rules: SyncRules): KeyState {
  const excess = key.log.length - rules.maxHistory
  if (excess <= 0) return key
  let state: Replayed = key.base ?? START
  for (const w of key.log.slice(0, excess)) if (refusal(state, w, rules) === undefined) state = applyWrite(state, w, rules)
  return { base: { ...state, horizon: key.log[excess - 1]! }, log: key.log.slice(excess) }
}

/**
 * The union of two replicas' states of one key (anti-entropy). The later checkpoint wins (both
 * folded the same history up to the older one); writes at or before it are dropped, the rest
 * united. Commutative, associative and idempotent, so replicas that exchange states converge.
 */
export function mergeKeys(a: KeyState, b: KeyState, rules: SyncRules): KeyState {
  const base = laterCheckpoint(a.base, b.base)
  const log = [...a.log, ...b.log].filter((w) => base === undefined || compareWrites(w, base.horizon) > 0).sort(compareWrites)
  // Sorted, equal writes are adjacent (compareWrites is 0 only for the same content).
  const unique = log.filter((w, i) => i === 0 || compareWrites(log[i - 1]!, w) !== 0)
  return fold({ base, log: unique }, rules)
}

function laterCheckpoint(a: Checkpoint | undefined, b: Checkpoint | undefined): Checkpoint | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  const order = compareWrites(a.horizon, b.horizon)
  if (order !== 0) return order > 0 ? a : b
  // The same horizon folded from different sets (one replica lacked a write): a deterministic pick.
  if (a.gen !== b.gen) return a.gen > b.gen ? a : b
  return compareBytes(checkpointDigest(a), checkpointDigest(b)) >= 0 ? a : b
}

/** 16 bytes identifying a checkpoint's content. */
export function checkpointDigest(c: Checkpoint): Uint8Array {
  return sha256(
    packArray([
      writeDigest(c.horizon),
      canonical(c.value ?? null),
      c.stamp?.ms ?? null,
      c.stamp?.counter ?? null,
      c.writer ?? null,
      c.owner ?? null,
      c.leaseStamp?.ms ?? null,
      c.leaseStamp?.counter ?? null,
      c.gen,
    ]),
  ).subarray(0, 16)
}

/**
 * 16 bytes identifying a key's whole state (its anti-entropy item id): equal states, equal ids.
 * One hash per key. A state of one write and no checkpoint (most keys) has its write's statement
 * (`writeStatement`, the write's leaf in a group): the signed mode hashes it anyway to check the
 * write, so a received key costs one hash less. (The statement's second item is the write's
 * kind, a number; this digest's is nil or the checkpoint's digest: the two never hash the same bytes.)
 */
export function keyStateDigest(name: string, key: KeyState): Uint8Array {
  if (key.base === undefined && key.log.length === 1) return writeStatement(name, key.log[0]!).subarray(0, 16)
  const parts: unknown[] = [name, key.base === undefined ? null : checkpointDigest(key.base)]
  for (const w of key.log) parts.push(hashItems(w))
  return sha256(packArray(parts)).subarray(0, 16)
}

/** The newest write's ms (the key's anti-entropy time). */
export function keyTime(key: KeyState): number {
  const last = key.log[key.log.length - 1] ?? key.base?.horizon
  return last?.stamp.ms ?? 0
}
