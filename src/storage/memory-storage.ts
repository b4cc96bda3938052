import { StorageError } from '../errors.js'
import type { StorageAdapter, StorageBatch } from './adapter.js'

export interface MemoryStorageOptions {
  /**
   * Asked before each `writeBatch`: an error it returns is thrown instead, and nothing is
   * written. Lets tests drive a model's storage-failure paths (STORAGE_FAILED, STORAGE_QUOTA).
   */
  failWith?: () => StorageError | undefined
}

/**
 * A StorageAdapter in memory: no persistence (a new instance starts empty), for tests and for
 * pages that must not touch IndexedDB. Records are kept and handed out as structured clones, so
 * callers never share objects with the store, and what IndexedDB would refuse (a function, a
 * class instance's methods) is refused here too.
 */
export class MemoryStorage implements StorageAdapter {
  readonly #records = new Map<string, unknown>()
  readonly #failWith: (() => StorageError | undefined) | undefined
  #closed = false

  constructor(options: MemoryStorageOptions = {}) {
    this.#failWith = options.failWith
  }

  async loadAll(): Promise<Array<[key: string, record: unknown]>> {
    this.#open()
    const keys = [...this.#records.keys()].sort()
    return structuredClone(keys.map((key): [string, unknown] => [key, this.#records.get(key)]))
  }

  async writeBatch(batch: StorageBatch): Promise<void> {
    this.#open()
    const failure = this.#failWith?.()
    if (failure !== undefined) throw failure
    const deletes = batch.deletes ?? []
    const puts = checkedPuts(batch.puts ?? [])
    checkKeys(deletes)
    for (const key of deletes) this.#records.delete(key)
    for (const [key, record] of puts) this.#records.set(key, record)
  }

  async clear(): Promise<void> {
    this.#open()
    this.#records.clear()
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#records.clear()
  }

  #open(): void {
    if (this.#closed) throw new StorageError('STORAGE_CLOSED', 'the storage adapter is closed')
  }
}

/** The batch's puts as clones, or STORAGE_FAILED before anything is written. */
function checkedPuts(puts: NonNullable<StorageBatch['puts']>): Array<[string, unknown]> {
  checkKeys(puts.map(([key]) => key))
  try {
    return puts.map(([key, record]) => [key, structuredClone(record)])
  } catch (err: unknown) {
    throw new StorageError('STORAGE_FAILED', `a record cannot be stored (structured clone refused it): ${String(err)}`, { cause: err })
  }
}

function checkKeys(keys: readonly unknown[]): void {
  for (const key of keys) {
    if (typeof key !== 'string') throw new StorageError('STORAGE_FAILED', `storage keys are strings, got ${typeof key}`)
  }
}
