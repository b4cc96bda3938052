/**
 * The storage seam: what the network models persist through (the sync table's keys, the chord
 * table's shards). Records are structured-clone values (plain objects, arrays, strings, numbers,
 * booleans, null, Uint8Array, Map); each is stored under a string key in one namespace (a
 * database per subnet and model for IndexedDB). Implementations: memory (tests, no persistence)
 * and IndexedDB through idb-keyval. One contract suite runs on both (src/testing/storage-contract.ts).
 *
 * Errors are StorageError: STORAGE_QUOTA when the medium is full, STORAGE_FAILED for any other
 * refusal, STORAGE_CLOSED after close(). A failed batch writes nothing (one transaction).
 */
export interface StorageAdapter {
  /** Every record, in key order (restores a table at start: one read, not one per key). */
  loadAll(): Promise<Array<[key: string, record: unknown]>>
  /**
   * Writes `puts` and removes `deletes` in one transaction: all or nothing. `durability`:
   * 'relaxed' (the default, as browsers' own: returns before the OS flushes) or 'strict' (returns
   * once the data is on disk; for what must survive a power cut, such as lease state).
   * Within a batch the deletes apply first, then the puts in order: a key in both keeps its put,
   * and the last put of a key wins. Keys must be strings, records structured-cloneable; else
   * STORAGE_FAILED and nothing is written. Calls apply in the order they are made, awaited or not.
   */
  writeBatch(batch: StorageBatch): Promise<void>
  /** Removes every record. */
  clear(): Promise<void>
  /** Releases the medium (idempotent); later calls reject with STORAGE_CLOSED. */
  close(): Promise<void>
}

export interface StorageBatch {
  puts?: ReadonlyArray<readonly [key: string, record: unknown]>
  deletes?: readonly string[]
  durability?: 'relaxed' | 'strict'
}

/**
 * Makes the adapter for one namespace (e.g. `sync:notes`); injected into the models by the
 * composition root. Does not throw: a medium that cannot open fails the adapter's first call.
 */
export type StorageFactory = (namespace: string) => StorageAdapter
