import { StorageError } from '../errors.js'
import type { StorageAdapter, StorageFactory } from '../storage/adapter.js'
import { MemoryStorage } from '../storage/memory-storage.js'
import { SyncSocket, type SyncOptions } from '../sync/sync-socket.js'
import type { Clock } from '../util/clock.js'
import type { Identity } from '../wire/identity.js'
import type { SimNetwork } from './sim-network.js'
import { simMeshNode } from './sim-mesh.js'

/** A SyncSocket node on a SimNetwork (test-only). */
export interface SimSyncNode {
  id: string
  identity: Identity
  table: SyncSocket
}

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

/** Starts a sync node on the simulated network (its own virtual clock, optionally skewed). */
export async function simSyncNode(
  sim: SimNetwork,
  bootstrap: string[],
  options: SyncOptions = {},
  extra: { storage?: StorageFactory; skewMs?: number; identity?: Identity; wrapClock?: (clock: Clock) => Clock } = {},
): Promise<SimSyncNode> {
  const skew = extra.skewMs ?? 0
  const skewed = (clock: Clock): Clock => (skew === 0 ? clock : { now: () => clock.now() + skew, setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h) })
  const wrap = (clock: Clock): Clock => skewed(extra.wrapClock?.(clock) ?? clock)
  const node = await simMeshNode(
    sim,
    bootstrap,
    { ...options, ...(extra.identity === undefined ? {} : { identity: extra.identity }) },
    false,
    wrap,
    'sync',
    (o, s) => new SyncSocket({ ...options, ...o }, { ...s, ...(extra.storage === undefined ? {} : { storage: extra.storage }) }),
  )
  return { id: node.id, identity: node.identity, table: node.socket as SyncSocket }
}
