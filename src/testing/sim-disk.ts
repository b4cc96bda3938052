import { StorageError } from '../errors.js'
import type { StorageAdapter, StorageFactory } from '../storage/adapter.js'
import { MemoryStorage } from '../storage/memory-storage.js'

/** Storage that outlives a node, as a page's IndexedDB outlives a reload: close() leaves the records. */
export function simDisk(): { storage: StorageFactory; stores: Map<string, MemoryStorage> } {
  const stores = new Map<string, MemoryStorage>()
  return {
    stores,
    storage: (namespace): StorageAdapter => {
      let store = stores.get(namespace)
      if (store === undefined) stores.set(namespace, (store = new MemoryStorage()))
      const disk = store
      let closed = false
      const open = () => {
        if (closed) throw new StorageError('STORAGE_CLOSED', 'closed')
      }
      return {
        loadAll: async () => (open(), disk.loadAll()),
        writeBatch: async (batch) => (open(), disk.writeBatch(batch)),
        clear: async () => (open(), disk.clear()),
        close: async () => void (closed = true),
      }
    },
  }
}
