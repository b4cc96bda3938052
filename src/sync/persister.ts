import { P2PError, StorageError } from '../errors.js'
import type { StorageAdapter } from '../storage/adapter.js'
import type { Hlc } from './hlc.js'
import type { KeyState } from './key-state.js'
import { decodeEntry, entryItems, MAX_ENTRIES, stamp, type Bounds } from './messages.js'

/** Storage keys: one record per table key, and the clock's last stamp. */
const KEY_PREFIX = 'k:'
const CLOCK = 'hlc'
/** A writer's public key (signed mode): to relay its writes after a restart. */
const PUBLIC_KEY_PREFIX = 'pk:'

export interface Restored {
  rows: Array<[string, KeyState]>
  clock: Hlc | undefined
  keys: Array<[string, Uint8Array]>
  /** Records that did not decode (skipped, reported). */
  bad: number
}

/**
 * Writes the table to storage in batches: keys changed within one task go out in one
 * transaction (not one per key), relaxed durability for table data and strict for a batch that
 * holds this node's own writes (its leases). A failure is reported once and the table carries on
 * in memory (writes are not retried: the next change of a key writes it again).
 */
export class Persister {
  readonly #storage: StorageAdapter
  readonly #report: (err: P2PError) => void
  readonly #dirty = new Map<string, KeyState>()
  readonly #extra = new Map<string, unknown>()
  #clock: Hlc | undefined
  #strict = false
  #scheduled = false
  #flushing: Promise<void> = Promise.resolve()
  #failed = false
  #closed = false
  flushes = 0

  constructor(storage: StorageAdapter, report: (err: P2PError) => void) {
    this.#storage = storage
    this.#report = report
  }

  /** Whether storage failed (the table lives in memory only from then on). */
  get failed(): boolean {
    return this.#failed
  }

  async restore(bounds: Bounds): Promise<Restored> {
    const rows: Array<[string, KeyState]> = []
    let clock: Hlc | undefined
    const keys: Array<[string, Uint8Array]> = []
    let bad = 0
    for (const [key, record] of await this.#storage.loadAll()) {
      try {
        if (key === CLOCK) clock = stamp((record as unknown[])[0], (record as unknown[])[1])
        else if (key.startsWith(KEY_PREFIX)) rows.push(decodeEntry(record, bounds))
        else if (key.startsWith(PUBLIC_KEY_PREFIX) && record instanceof Uint8Array && record.length === 32) keys.push([key.slice(PUBLIC_KEY_PREFIX.length), record])
      } catch {
        bad++
      }
    }
    return { rows, clock, keys, bad }
  }

  /** Marks a key to be written; `own`: the change is this node's write (strict durability with leases). */
  save(key: string, state: KeyState, clock: Hlc, own: boolean): void {
    if (this.#failed || this.#closed) return
    this.#dirty.set(key, state)
    this.#clock = clock
    this.#strict ||= own
    this.#schedule()
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      this.#flushing = this.#flushing.then(() => this.#flush())
    })
  }

  /** Keeps a writer's public key (signed mode). */
  savePublicKey(writer: string, publicKey: Uint8Array): void {
    if (this.#failed || this.#closed) return
    this.#extra.set(PUBLIC_KEY_PREFIX + writer, publicKey)
    this.#schedule()
  }

  /** Resolves when everything saved so far is written (or storage failed). */
  async flushed(): Promise<void> {
    while (this.#scheduled || this.#dirty.size > 0 || this.#extra.size > 0) {
      await this.#flushing
      if (this.#scheduled) await new Promise<void>((resolve) => queueMicrotask(resolve))
      if (this.#failed) return
      if (!this.#scheduled && (this.#dirty.size > 0 || this.#extra.size > 0)) this.#flushing = this.#flushing.then(() => this.#flush())
    }
    await this.#flushing
  }

  async close(): Promise<void> {
    await this.flushed()
    this.#closed = true
    await this.#storage.close().catch(() => {})
  }

  async #flush(): Promise<void> {
    if ((this.#dirty.size === 0 && this.#extra.size === 0) || this.#failed) return
    const puts: Array<[string, unknown]> = [...this.#extra]
    this.#extra.clear()
    for (const [key, state] of this.#dirty) {
      puts.push([KEY_PREFIX + key, entryItems(key, state)])
      if (puts.length >= MAX_ENTRIES * 8) break
    }
    for (const [key] of puts) this.#dirty.delete(key.slice(KEY_PREFIX.length))
    if (this.#clock !== undefined) puts.push([CLOCK, [this.#clock.ms, this.#clock.counter]])
    const durability = this.#strict ? 'strict' : 'relaxed'
    this.#strict = false
    try {
      await this.#storage.writeBatch({ puts, durability })
      this.flushes++
    } catch (err: unknown) {
      this.#failed = true
      this.#dirty.clear()
      this.#extra.clear()
      this.#report(err instanceof P2PError ? err : new StorageError('STORAGE_FAILED', 'the sync table could not be stored; it carries on in memory', { cause: err }))
    }
  }
}
