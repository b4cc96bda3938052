import { P2PError, StorageError } from '../errors.js'
import type { StorageAdapter } from '../storage/adapter.js'
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js'
import type { Hlc } from './hlc.js'
import type { KeyState } from './key-state.js'
import { MAX_ENTRIES, stamp, type Bounds } from './write-codec.js'
import { decodeGroup, GROUP_PREFIX, groupItems, StoredGroups } from './stored-groups.js'
import { CHUNK_ENTRIES, decodeChunk, decodeStored, encodeChunks, storedItems, type RestoredRow } from './stored-records.js'

export { CHUNK_BYTES, CHUNK_ENTRIES, type RestoredRow } from './stored-records.js'

/**
 * Storage keys (docs/protocol.md, "Persistence"): the table as snapshot chunks, one record per key
 * changed since the snapshot, the clock's last stamp, and writers' public keys.
 */
const KEY_PREFIX = 'k:'
const CHUNK_PREFIX = 's:'
const CLOCK = 'hlc'
/**
 * The rule the stored item ids were made by (keyStateDigest): 2 since a one-write key's id is its
 * write's statement. Ids stored under another rule (or none: before this record) are made again
 * on restore, and the table is compacted to store them.
 */
const IDS = 'ids'
const ID_RULE = 2
/** A writer's public key (signed mode): to relay its writes after a restart. */
const PUBLIC_KEY_PREFIX = 'pk:'

/** The table is compacted into chunks once more per-key records than max(this, a quarter of its keys) are stored. */
export const COMPACT_MIN = 1_024
/** …and on close, once at least this many are. */
export const COMPACT_ON_CLOSE = 256
/**
 * Keys waiting to be written that start the transaction without waiting for the delay: a large
 * intake (a newcomer's table, a burst) is written as it arrives, a piece per message, rather
 * than in one long transaction that would hold the page up later.
 */
export const PERSIST_AT_ONCE = 256
/**
 * Keys never stored before, written in one batch: this many or more go in new snapshot chunks
 * (appended after the others) rather than as a record each. A newcomer's table or a burst then
 * costs a few byte records, not thousands of records and the compactions they would cause.
 */
export const APPEND_AT_LEAST = 64



export interface Restored {
  rows: RestoredRow[]
  clock: Hlc | undefined
  keys: Array<[string, Uint8Array]>
  /** Records (or entries of a chunk) that did not decode (skipped, reported). */
  bad: number
}

/** What compaction reads: the whole table, each key's state and item id (Table). */
export interface PersistedTable {
  readonly total: number
  rows(): Iterable<[string, { readonly state: KeyState; readonly item: { readonly id: Uint8Array } }]>
}

interface Dirty {
  readonly state: KeyState
  readonly id: Uint8Array
}

/**
 * Writes the table to storage in batches: keys changed within one task go out in one
 * transaction (not one per key), as one record each (many new keys at once: as new snapshot
 * chunks, APPEND_AT_LEAST), relaxed durability for table data and
 * strict for a batch that holds this node's own writes (its leases). Once the per-key records
 * pass a threshold (and on close, if worthwhile) the whole table is written as snapshot chunks
 * instead, and every per-key record deleted, in one transaction: a restart then reads a few
 * dozen records, not one per key. A failure is reported once and the table carries on in memory
 * (writes are not retried: the next change of a key writes it again).
 */
export class Persister {
  readonly #storage: StorageAdapter
  readonly #report: (err: P2PError) => void
  readonly #clock: Clock
  readonly #dirty = new Map<string, Dirty>()
  readonly #extra = new Map<string, unknown>()
  /** Keys with a per-key record in storage (restored ones included, even those that did not decode). */
  readonly #perKey = new Set<string>()
  /** Snapshot chunks in storage: 's:0' … 's:<chunks - 1>'. */
  #chunks = 0
  /** Keys that are in a stored chunk (a key is in one chunk at most; its 'k:' record, if any, is newer). */
  #inChunks = new Set<string>()
  /** Stored keys of the chunk prefix that are not 's:<n>' (skipped; deleted by the next compaction). */
  readonly #stray = new Set<string>()
  #table: PersistedTable | undefined
  /** Grouped writes are stored as [group's signature, index]; the groups as records of their own. */
  readonly #groups = new StoredGroups()
  /** The group records in storage, with the number of tree nodes each holds (a tree that grew is written again). */
  #storedGroups = new Map<string, number>()
  /** The compaction `follow` found due, in a task of its own (after the restored table is shown). */
  #followTimer: TimerHandle | undefined
  #hlc: Hlc | undefined
  /** The restored ids were made by another rule (IDS): the next flush compacts, storing them anew. */
  #staleIds = false
  /** The IDS record is stored (written with the first batch otherwise). */
  #idsStored = false
  #strict = false
  /** A flush waits for the delay. */
  #scheduled = false
  /** A flush is chained on #flushing and has not begun. */
  #queued = false
  /** The pending flush's timer (`delayMs` > 0). */
  #flushTimer: TimerHandle | undefined
  readonly #delayMs: number
  #flushing: Promise<void> = Promise.resolve()
  #failed = false
  #closed = false
  flushes = 0
  compactions = 0

  /**
   * `delayMs`: how long a change waits for others before its transaction starts (0: at the end of
   * the task). The writes of a busy moment then share one transaction, which runs after the
   * messages that brought them have been passed on.
   */
  constructor(storage: StorageAdapter, report: (err: P2PError) => void, clock: Clock = systemClock, delayMs = 0) {
    this.#storage = storage
    this.#report = report
    this.#clock = clock
    this.#delayMs = delayMs
  }

  /** Whether storage failed (the table lives in memory only from then on). */
  get failed(): boolean {
    return this.#failed
  }

  /** Reads the stored table: the chunks, then the per-key records over them (they are newer). */
  async restore(bounds: Bounds): Promise<Restored> {
    const byKey = new Map<string, RestoredRow>()
    const perKey: RestoredRow[] = []
    let clock: Hlc | undefined
    const keys: Array<[string, Uint8Array]> = []
    let bad = 0
    const records = await this.#storage.loadAll()
    this.#idsStored = records.some(([key, record]) => key === IDS && record === ID_RULE)
    const staleIds = records.length > 0 && !this.#idsStored
    // The groups first: stored writes name them.
    for (const [key, record] of records) {
      if (!key.startsWith(GROUP_PREFIX)) continue
      this.#storedGroups.set(key, -1)
      try {
        const group = decodeGroup(key, record)
        this.#groups.add(key, group)
        this.#storedGroups.set(key, group.tree.nodeCount)
      } catch {
        bad++
      }
    }
    for (const [key, record] of records) {
      try {
        if (key.startsWith(GROUP_PREFIX)) continue
        if (key === CLOCK) clock = stamp((record as unknown[])[0], (record as unknown[])[1])
        else if (key.startsWith(CHUNK_PREFIX)) {
          const n = Number(key.slice(CHUNK_PREFIX.length))
          if (!Number.isSafeInteger(n) || n < 0 || CHUNK_PREFIX + n !== key) {
            this.#stray.add(key)
            throw new TypeError('a chunk is s:<n>')
          }
          this.#chunks = Math.max(this.#chunks, n + 1)
          bad += decodeChunk(record, bounds, byKey, this.#groups)
        } else if (key.startsWith(KEY_PREFIX)) {
          this.#perKey.add(key.slice(KEY_PREFIX.length))
          perKey.push(decodeStored(record, bounds, this.#groups))
        } else if (key.startsWith(PUBLIC_KEY_PREFIX) && record instanceof Uint8Array && record.length === 32) keys.push([key.slice(PUBLIC_KEY_PREFIX.length), record])
      } catch {
        bad++
      }
    }
    for (const key of byKey.keys()) this.#inChunks.add(key)
    for (const row of perKey) byKey.set(row[0], row)
    const rows = [...byKey.values()]
    if (staleIds && rows.length > 0) {
      for (const row of rows) row[2] = undefined
      this.#staleIds = true
    }
    return { rows, clock, keys, bad }
  }

  /**
   * The table restored from this storage, now followed: compaction reads it. Compacts in a task of
   * its own when the stored records are already past the threshold (a store of per-key records only).
   */
  follow(table: PersistedTable): void {
    this.#table = table
    if (!this.#compactionDue()) return
    this.#followTimer = this.#clock.setTimeout(() => {
      this.#followTimer = undefined
      if (!this.#closed) this.#schedule()
    }, 0)
  }

  /** Marks a key to be written; `id` its item id; `own`: the change is this node's write (strict durability with leases). */
  save(key: string, state: KeyState, id: Uint8Array, clock: Hlc, own: boolean): void {
    if (this.#failed || this.#closed) return
    this.#dirty.set(key, { state, id })
    this.#hlc = clock
    this.#strict ||= own
    if (this.#dirty.size >= PERSIST_AT_ONCE) this.#startFlush()
    else this.#schedule()
  }

  /** A flush after the delay (at the end of the task when it is 0), unless one is scheduled or queued already. */
  #schedule(): void {
    if (this.#scheduled || this.#queued) return
    this.#scheduled = true
    const run = (): void => {
      if (this.#scheduled) this.#startFlush()
    }
    if (this.#delayMs === 0) queueMicrotask(run)
    else this.#flushTimer = this.#clock.setTimeout(run, this.#delayMs)
  }

  /** A flush now, unless one is queued that has not begun: that one takes what waits. */
  #startFlush(): void {
    this.#clock.clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    this.#scheduled = false
    if (this.#queued) return
    this.#queued = true
    this.#flushing = this.#flushing.then(() => {
      this.#queued = false
      return this.#flush()
    })
  }

  /** Keeps a writer's public key (signed mode). */
  savePublicKey(writer: string, publicKey: Uint8Array): void {
    if (this.#failed || this.#closed) return
    this.#extra.set(PUBLIC_KEY_PREFIX + writer, publicKey)
    this.#schedule()
  }

  /** Writes everything saved so far now, without waiting for the delay; resolves when written (or storage failed). */
  async flushed(): Promise<void> {
    for (;;) {
      // A flush of many keys leaves the rest for the next one.
      if (this.#scheduled || this.#dirty.size > 0 || this.#extra.size > 0) this.#startFlush()
      await this.#flushing
      if (this.#failed || (!this.#scheduled && !this.#queued && this.#dirty.size === 0 && this.#extra.size === 0)) return
    }
  }

  /** Writes what is left, compacting when worthwhile (COMPACT_ON_CLOSE), then releases the storage. */
  async close(): Promise<void> {
    this.#clock.clearTimeout(this.#followTimer)
    await this.flushed()
    if (!this.#closed && !this.#failed && this.#table !== undefined && this.#perKey.size >= COMPACT_ON_CLOSE) {
      this.#flushing = this.#flushing.then(() => this.#flush(true))
      await this.#flushing
    }
    this.#closed = true
    await this.#storage.close().catch(() => {})
  }

  /** The keys waiting to be written that have no stored record (`APPEND_AT_LEAST` of them go in new chunks). */
  #freshKeys(): string[] {
    return [...this.#dirty.keys()].filter((key) => !this.#perKey.has(key) && !this.#inChunks.has(key))
  }

  /** Whether the per-key records, with those about to be written (`fresh`: as #freshKeys), are past the threshold. */
  #compactionDue(fresh = this.#freshKeys()): boolean {
    if (this.#table === undefined) return false
    let records = this.#perKey.size
    for (const key of this.#dirty.keys()) if (!this.#perKey.has(key)) records++
    if (fresh.length >= APPEND_AT_LEAST) records -= fresh.length
    const total = this.#table.total
    return this.#staleIds || records > Math.max(COMPACT_MIN, Math.floor(total / 4)) || this.#chunks > 2 * Math.ceil(total / CHUNK_ENTRIES) + 8
  }

  async #flush(compact = false): Promise<void> {
    if (this.#failed) return
    const fresh = this.#freshKeys()
    compact ||= this.#compactionDue(fresh)
    if (!compact && this.#dirty.size === 0 && this.#extra.size === 0) return
    const puts: Array<[string, unknown]> = [...this.#extra]
    this.#extra.clear()
    const deletes: string[] = []
    let chunks = this.#chunks
    if (compact) {
      // The table as it is now: every dirty key's state included.
      this.#groups.take()
      const inChunks = new Set<string>()
      const encoded = encodeChunks(rowsOf(this.#table!, inChunks), this.#groups)
      chunks = encoded.length
      this.#inChunks = inChunks
      encoded.forEach((chunk, n) => puts.push([CHUNK_PREFIX + n, chunk]))
      for (let n = chunks; n < this.#chunks; n++) deletes.push(CHUNK_PREFIX + n)
      for (const key of this.#perKey) deletes.push(KEY_PREFIX + key)
      deletes.push(...this.#stray)
      this.#dirty.clear()
      // Exactly the groups the table's writes name stay stored.
      const named = this.#groups.take()
      for (const [record, g] of named) if (this.#storedGroups.get(record) !== g.tree.nodeCount) puts.push([record, groupItems(g)])
      for (const record of this.#storedGroups.keys()) if (!named.has(record)) deletes.push(record)
      this.#storedGroups = new Map([...named].map(([record, g]) => [record, g.tree.nodeCount]))
    } else {
      if (fresh.length >= APPEND_AT_LEAST) {
        const rows = fresh.map((key): [string, KeyState, Uint8Array] => {
          const { state, id } = this.#dirty.get(key)!
          return [key, state, id]
        })
        const encoded = encodeChunks(rows, this.#groups)
        encoded.forEach((chunk, n) => puts.push([CHUNK_PREFIX + (chunks + n), chunk]))
        chunks += encoded.length
        for (const key of fresh) {
          this.#dirty.delete(key)
          this.#inChunks.add(key)
        }
      }
      for (const [key, { state, id }] of this.#dirty) {
        puts.push([KEY_PREFIX + key, storedItems(key, state, id, this.#groups)])
        if (puts.length >= MAX_ENTRIES * 8) break
      }
      for (const [record, g] of this.#groups.take()) {
        if (this.#storedGroups.get(record) === g.tree.nodeCount) continue
        puts.push([record, groupItems(g)])
        this.#storedGroups.set(record, g.tree.nodeCount)
      }
      for (const [key] of puts) {
        if (!key.startsWith(KEY_PREFIX)) continue
        this.#dirty.delete(key.slice(KEY_PREFIX.length))
        this.#perKey.add(key.slice(KEY_PREFIX.length))
      }
    }
    if (this.#hlc !== undefined) puts.push([CLOCK, [this.#hlc.ms, this.#hlc.counter]])
    const idsNew = !this.#idsStored
    if (idsNew) puts.push([IDS, ID_RULE])
    const durability = this.#strict ? 'strict' : 'relaxed'
    this.#strict = false
    try {
      await this.#storage.writeBatch({ puts, deletes, durability })
      this.flushes++
      if (idsNew) this.#idsStored = true
      this.#chunks = chunks
      if (compact) {
        this.compactions++
        this.#staleIds = false
        this.#perKey.clear()
        this.#stray.clear()
      }
    } catch (err: unknown) {
      this.#failed = true
      this.#dirty.clear()
      this.#extra.clear()
      this.#report(err instanceof P2PError ? err : new StorageError('STORAGE_FAILED', 'the sync table could not be stored; it carries on in memory', { cause: err }))
    }
  }
}

/** The table's rows as [key, state, id], each key added to `keys`. */
function* rowsOf(table: PersistedTable, keys: Set<string>): Generator<[string, KeyState, Uint8Array]> {
  for (const [key, row] of table.rows()) {
    keys.add(key)
    yield [key, row.state, row.item.id]
  }
}
