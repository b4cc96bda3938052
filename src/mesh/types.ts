import type { P2PError } from '../errors.js'
import type { NetworkFactory } from '../transport/types.js'
import type { Clock } from '../util/clock.js'
import type { Digest } from '../wire/frame.js'
import type { Identity } from '../wire/identity.js'
import type { SignatureVerifier } from '../wire/signed.js'
import type { ReachStats } from './reach.js'
import type { RouterStats } from './router.js'
import type { ReceivedMessage } from './user-messages.js'

// The MeshSocket's public types: its events, the services it is given, its stats.

export type MeshEvents = {
  message: [message: ReceivedMessage]
  peer: [id: string]
  'peer-left': [id: string, reason: P2PError | undefined]
  /** The way in to the network (the signaling server) is lost; links already made stay up. The network reconnects by itself. */
  offline: []
  /** The way in is back: a node without peers looks for the subnet's nodes again at once. */
  online: []
  error: [err: P2PError]
}

/** This node's stored key pair (the package entry supplies IndexedDB's where it exists). */
export type IdentityStore = (subnet: string) => Promise<{ identity: Identity; release(): void }>

/** Injected services (tests pass a simulated network and virtual clock). */
export interface MeshServices {
  clock?: Clock
  random?: () => number
  /** How the node reaches others. The package entry's MeshSocket makes the WebRTC one from its options. */
  network?: NetworkFactory
  /** Where identity 'persistent' is kept. Without one, the default identity is ephemeral. */
  identityStore?: IdentityStore
  /** SHA-256 for frame ids. Default `webDigest` (WebCrypto for large bodies); `syncDigest` keeps a simulation deterministic. */
  digest?: Digest
  /** Signature checks (signed mode). Default: WebCrypto where it has Ed25519; a noble one answers synchronously. */
  verifier?: SignatureVerifier
  /** Random bytes for handshake nonces. Default crypto.getRandomValues. */
  randomBytes?: (n: number) => Uint8Array
}

export interface MeshStats extends RouterStats, ReachStats {
  peers: number
  /** Frames received and sent on all links since start (every kind: user, relay, control). */
  messagesIn: number
  messagesOut: number
  /** Bytes on the wire, all links since start. */
  bytesIn: number
  bytesOut: number
  /** Uncompressed bodies / bodies as sent, over all frames sent (1 = no saving). */
  compressionRatio: number
  /** Frames dropped as malformed (each reported as a BAD_FRAME error), protocol messages their decoder refused included. */
  badFrames: number
  /** Messages dropped from the recv() queue because it was full. */
  recvDropped: number
  /** Dials that failed (the candidate is retried after a backoff). */
  dialFailures: number
  /** Signed mode: messages dropped because their signature, key or signer did not hold (each reported as FORGED). */
  forged: number
  /** Signed mode: signed messages dropped for a timestamp outside the replay window (maxClockSkewMs). */
  stale: number
  /** Frames dropped unread because a peer sent more than maxMessagesPerSecond. */
  rateLimited: number
}
