import type { StorageFactory } from '../storage/adapter.js'
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
