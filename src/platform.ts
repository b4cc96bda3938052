import { MeshError } from './errors.js'
import type { IdentityStore, MeshServices } from './mesh/mesh-socket.js'
import { MeshSocket as MeshCore } from './mesh/mesh-socket.js'
import type { MeshOptions } from './mesh/options.js'
import { loadIdentity } from './storage/identity-store.js'
import { indexedDbStorage } from './storage/indexeddb-storage.js'
import { SyncSocket as SyncCore, type SyncOptions, type SyncServices } from './sync/sync-socket.js'
import { webRtcNetwork, type WebRtcNetworkOptions } from './transport/webrtc-network.js'

/**
 * The composition root: what the package entry injects into the network models, which see only
 * interfaces (docs/ARCHITECTURE.md). The WebRTC network bootstrapped by our signaling server, and
 * node identities kept in IndexedDB where the page has it.
 */

/** A MeshSocket's options: the mesh's own and the default WebRTC network's. */
export type MeshSocketOptions = MeshOptions & WebRtcNetworkOptions

/** The identity store of this platform: IndexedDB (idb-keyval) where it exists. */
export function platformIdentityStore(): IdentityStore | undefined {
  return typeof indexedDB === 'undefined' ? undefined : (subnet) => loadIdentity({ subnet })
}

/**
 * The services a socket gets from the platform, unless the caller injects its own: the WebRTC
 * network (its options from `options`) and the IndexedDB identity store. Throws INVALID_ARGUMENT
 * without a signaling URL when no network is injected.
 */
export function platformServices(options: MeshSocketOptions, services: MeshServices): MeshServices {
  let network = services.network
  if (network === undefined) {
    if (typeof options.signaling !== 'string' || options.signaling === '') throw new MeshError('INVALID_ARGUMENT', 'MeshSocket needs a `signaling` server URL')
    network = webRtcNetwork(options)
  }
  const identityStore = services.identityStore ?? platformIdentityStore()
  return { ...services, network, ...(identityStore === undefined ? {} : { identityStore }) }
}

/**
 * An unorganised mesh network over WebRTC (see the mesh layer's MeshSocket, which this is with
 * the platform's services): `new MeshSocket({ signaling, subnet })`.
 */
export class MeshSocket extends MeshCore {
  constructor(options: MeshSocketOptions = {}, services: MeshServices = {}) {
    super(options, platformServices(options, services))
  }

  /** Every mesh-layer socket (the models built on it included) is a MeshSocket. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === MeshSocket ? value instanceof MeshCore : Function.prototype[Symbol.hasInstance].call(this, value)
  }
}

/** A SyncSocket's options: the sync table's, the mesh's and the default WebRTC network's. */
export type SyncSocketOptions = SyncOptions & WebRtcNetworkOptions

/**
 * A replicated dictionary with leases over WebRTC (see the sync layer's SyncSocket), kept in
 * IndexedDB where the page has it: `new SyncSocket({ signaling, subnet })`.
 */
export class SyncSocket extends SyncCore {
  readonly #unwatch: () => void

  constructor(options: SyncSocketOptions = {}, services: SyncServices = {}) {
    const storage = services.storage ?? (typeof indexedDB === 'undefined' ? undefined : indexedDbStorage)
    super(options, { ...platformServices(options, services), ...(storage === undefined ? {} : { storage }) })
    // A hidden tab's timers are throttled (down to one wake-up a minute): when it is shown again,
    // reconcile at once rather than at the next periodic round.
    const doc = typeof document === 'undefined' ? undefined : document
    // A page being hidden or left may not run its timers again: what waits to be stored goes now.
    const shown = () => {
      if (doc?.visibilityState === 'visible') this.reconcile().catch(() => {})
      else void this.persisted()
    }
    const left = () => void this.persisted()
    doc?.addEventListener('visibilitychange', shown)
    globalThis.addEventListener?.('pagehide', left)
    this.#unwatch = () => {
      doc?.removeEventListener('visibilitychange', shown)
      globalThis.removeEventListener?.('pagehide', left)
    }
  }

  override close(): Promise<void> {
    this.#unwatch()
    return super.close()
  }
}
