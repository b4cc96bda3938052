/**
 * p2p-today: peer-to-peer networking in the browser over WebRTC.
 * The public entry: factories, types and errors — nothing else.
 */
export * from './wire/index.js'

// Transport: the seam every network model stands on.
export type {
  Link,
  LinkEvents,
  LinkState,
  SendOptions,
  Transport,
  TransportEvents,
  Signaler,
  SignalerEvents,
  Network,
  NetworkContext,
  NetworkFactory,
  // The names these had before the mesh stopped building its network.
  Network as MeshNetwork,
  NetworkContext as MeshNetworkContext,
  NetworkFactory as MeshNetworkFactory,
} from './transport/types.js'
export { webRtcNetwork, WEBRTC_NETWORK_DEFAULTS } from './transport/webrtc-network.js'
export type { WebRtcNetworkOptions } from './transport/webrtc-network.js'
export { WebRtcTransport, WEBRTC_TRANSPORT_DEFAULTS } from './transport/webrtc/webrtc-transport.js'
export type { WebRtcTransportOptions, WrtcImplementation } from './transport/webrtc/webrtc-transport.js'
export { WEBRTC_LINK_DEFAULTS } from './transport/webrtc/webrtc-link.js'
export type { WebRtcLinkLimits } from './transport/webrtc/webrtc-link.js'
export { SignalingClient, DEFAULT_RECONNECT } from './transport/signaling/signaling-client.js'
export type {
  BackoffPolicy,
  SignalingClientState,
  SignalingClientOptions,
  SignalingClientEvents,
  SignalingSocket,
  SignalingSocketConstructor,
} from './transport/signaling/signaling-client.js'
export { createMemoryLinkPair, MemoryHub, MemoryTransport, MEMORY_LINK_DEFAULTS } from './transport/memory.js'
export type { LinkLimits, MemoryLinkOptions, MemoryHubOptions } from './transport/memory.js'

// Services that constructors accept.
export { systemClock } from './util/clock.js'
export type { Clock, TimerHandle } from './util/clock.js'
export { Emitter } from './util/emitter.js'

export {
  P2PError,
  WireError,
  IdentityError,
  TransportError,
  hasCode,
  WIRE_ERROR_CODES,
  IDENTITY_ERROR_CODES,
  TRANSPORT_ERROR_CODES,
} from './errors.js'
export type { ErrorCode, WireErrorCode, IdentityErrorCode, TransportErrorCode } from './errors.js'
export { toHex, fromHex } from './util/bytes.js'

// Persistent identity (IndexedDB via idb-keyval).
export { loadIdentity, IDENTITY_STORE_DEFAULTS } from './storage/identity-store.js'
export type { LoadIdentityOptions, StoredIdentity } from './storage/identity-store.js'

// Storage for the network models (the sync table, chord): memory, or IndexedDB via idb-keyval.
export type { StorageAdapter, StorageBatch, StorageFactory } from './storage/adapter.js'
export { MemoryStorage } from './storage/memory-storage.js'
export type { MemoryStorageOptions } from './storage/memory-storage.js'
export { IndexedDbStorage, indexedDbStorage, deleteIndexedDbStorage, INDEXEDDB_STORAGE } from './storage/indexeddb-storage.js'
export { StorageError, STORAGE_ERROR_CODES, SyncError, SYNC_ERROR_CODES } from './errors.js'
export type { StorageErrorCode, SyncErrorCode } from './errors.js'

// Mesh network, with the platform's services (WebRTC, IndexedDB) injected.
export { MeshSocket } from './platform.js'
export type { MeshSocketOptions } from './platform.js'
export { MESH_DEFAULTS } from './mesh/mesh-socket.js'
export type { MeshOptions, ReceivedMessage, MeshEvents, MeshServices, MeshStats, IdentityStore } from './mesh/mesh-socket.js'
export { MESH_FLAGS } from './mesh/messages.js'
// The protocol seam: network models (and applications') plug into a MeshSocket.
export type { MeshProtocol, MeshPort, MessageClaim, ProtocolMessage, Route } from './mesh/protocol.js'
export { MeshError, MESH_ERROR_CODES } from './errors.js'

// Sync table: a replicated dictionary with leases on the mesh, kept in IndexedDB.
export { SyncSocket } from './platform.js'
export type { SyncSocketOptions } from './platform.js'
export { SYNC_DEFAULTS } from './sync/options.js'
export type { SyncOptions, SyncTableOptions } from './sync/options.js'
export type { SyncEvents, SyncMeta, SyncServices, SyncStats } from './sync/sync-socket.js'
export type { MeshErrorCode } from './errors.js'
