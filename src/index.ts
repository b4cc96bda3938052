/**
 * p2p-today: peer-to-peer networking in the browser over WebRTC.
 * The public entry: factories, types and errors — nothing else.
 */
export * from './wire/index.js'

// Transport: the seam every network model stands on.
export type { Link, LinkEvents, LinkState, SendOptions, Transport, TransportEvents, Signaler, SignalerEvents } from './transport/types.js'
export { WebRtcTransport, WEBRTC_TRANSPORT_DEFAULTS } from './transport/webrtc/webrtc-transport.js'
export type { WebRtcTransportOptions, WrtcImplementation } from './transport/webrtc/webrtc-transport.js'
export { WEBRTC_LINK_DEFAULTS } from './transport/webrtc/webrtc-link.js'
export type { WebRtcLinkLimits } from './transport/webrtc/webrtc-link.js'
export { SignalingClient } from './transport/signaling/signaling-client.js'
export type {
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

// Mesh network.
export { MeshSocket, MESH_DEFAULTS } from './mesh/mesh-socket.js'
export type { MeshSocketOptions, ReceivedMessage, MeshEvents, MeshServices, MeshStats } from './mesh/mesh-socket.js'
export type { MeshNetwork, MeshNetworkContext, MeshNetworkFactory } from './mesh/network.js'
export { MESH_FLAGS } from './mesh/messages.js'
export { MeshError, MESH_ERROR_CODES } from './errors.js'
export type { MeshErrorCode } from './errors.js'
