import type { P2PError } from '../errors.js'
import type { Identity } from '../wire/identity.js'

/**
 * The transport seam. Mesh, sync and chord never see WebRTC: they get Links. A Link carries
 * whole messages (bytes in = bytes out, boundaries preserved), reliably and in order.
 */
export type LinkState = 'connecting' | 'open' | 'closed'

export type LinkEvents = {
  open: []
  message: [data: Uint8Array]
  /** Fired once. `reason` is undefined for a clean local close. */
  close: [reason: P2PError | undefined]
  error: [err: P2PError]
}

export interface SendOptions {
  /**
   * Small control messages (keepalive, routing) may overtake large messages still being sent
   * on the link. Urgent messages stay in order among themselves; other messages are strictly
   * FIFO. Links that never queue (in-memory) may ignore it.
   */
  urgent?: boolean
  /**
   * The caller will never modify `data` (a relay sending one frame to several links). A link may
   * then keep it, or what it makes of it, without copying, and share that between links.
   */
  immutable?: boolean
}

export interface Link {
  /** Local identifier of this link (unique within the process). */
  readonly id: string
  /** The peer's id as the transport knows it (signaling id / node id), if it knows one. */
  readonly remoteId: string | undefined
  readonly state: LinkState
  /** Bytes accepted by send() and not yet handed to the network. */
  readonly bufferedAmount: number
  /**
   * Queues one message. Resolves once the message is accepted within the link's buffer bound
   * (await it for backpressure); rejects with LINK_CLOSED if the link is or becomes closed
   * before that, or MESSAGE_TOO_LARGE over the link's message cap.
   */
  send(data: Uint8Array, options?: SendOptions): Promise<void>
  on<K extends keyof LinkEvents>(event: K, fn: (...args: LinkEvents[K]) => void): () => void
  /** Idempotent; resolves when torn down. The peer sees 'close'. */
  close(): Promise<void>
}

export type TransportEvents = {
  /** A link that a remote peer opened to us (already open). */
  link: [link: Link]
  error: [err: P2PError]
}

/** Something that makes links: dial out, accept in. */
export interface Transport {
  readonly localId: string
  /**
   * Connections this transport may still open, if it has a budget (WebRTC: Chromium allows a page
   * 500 RTCPeerConnections over its lifetime). A dial past it rejects. Absent: no budget.
   */
  readonly connectionsLeft?: number
  dial(remoteId: string, options?: { signal?: AbortSignal }): Promise<Link>
  on<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): () => void
  close(): Promise<void>
}

export type SignalerEvents = {
  /** A signal blob (simple-peer's offer/answer/candidate object) from another node. */
  signal: [from: string, data: unknown]
  /**
   * Signals for `id` cannot be delivered: the signaling server does not know it (it left, or never
   * came). A dial to `id` in progress fails at once (PEER_UNREACHABLE) instead of timing out.
   */
  unreachable: [id: string]
}

/**
 * Carries WebRTC signal blobs between two nodes before they have a link: the signaling server
 * at bootstrap, the mesh itself later (peer-assisted signaling).
 */
export interface Signaler {
  readonly localId: string
  /** Best effort; a blob that cannot be delivered is dropped (the dial then times out). */
  sendSignal(to: string, data: unknown): void
  on<K extends keyof SignalerEvents>(event: K, fn: (...args: SignalerEvents[K]) => void): () => void
}

/** How a node reaches other nodes: a transport, where to start, and how to find more. */
export interface Network {
  transport: Transport
  /** Nodes of the subnet to dial first (the signaling server's sample). */
  bootstrap: string[]
  /** The signaling server's signaler while it is connected (used until the mesh has a peer). */
  server?: Signaler
  /** More bootstrap ids, when the mesh has none left to try (asks the signaling server again). */
  discover?(): Promise<string[]>
  /**
   * The way in to the network: 'offline' when it is lost (the signaling server's connection: its
   * client reconnects by itself), 'online' when it is back. Links already made are not affected.
   */
  on?(event: 'online' | 'offline', fn: () => void): () => void
  close(): Promise<void>
}

export interface NetworkContext {
  identity: Identity
  protocolId: string
  /** The signaler the transport must use: the mesh relay once it has peers, else the server. */
  signaler: Signaler
}

/** Makes the network for a socket once its identity and protocol id are known. */
export type NetworkFactory = (ctx: NetworkContext) => Promise<Network>
