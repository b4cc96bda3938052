import { MeshError, WireError, type P2PError } from '../errors.js'

/**
 * The protocol seam: how a network model (the sync table, the chord table, an application's own)
 * plugs into a MeshSocket. A model claims sub flags per route, each with a validating decoder;
 * the mesh carries its messages through the same path as user messages (unique ids, signatures,
 * dedup, compression, backpressure) and hands each decoded message to the model's handler.
 * docs/ARCHITECTURE.md ("The protocol seam") shows a complete model in 30 lines.
 */

/**
 * How a message travels:
 * - `broadcast`: flooded to every node (main flag broadcast 0x00),
 * - `whisper`: to a neighbour, on the link (main flag whisper 0x02),
 * - `routed`: to any node, through the mesh (main flag forward 0x0E; the target id follows the sub flag).
 */
export type Route = 'broadcast' | 'whisper' | 'routed'

export const ROUTES: readonly Route[] = ['broadcast', 'whisper', 'routed']

/** One sub flag a protocol owns on one route. */
export interface MessageClaim<M = unknown> {
  route: Route
  /** The sub flag: the first payload item (an integer 0–255). Applications should use values above 0x2F (RESERVED_FLAG_MAX). */
  sub: number
  /**
   * Turns the items after the sub flag (after the target id, on the routed route) into a message,
   * or throws if they are not one. Input is hostile: check types, lengths and counts. A throw
   * drops the frame, counts it against the link that brought it (BAD_FRAME) and is reported; it
   * never reaches the event loop. Runs before the message is relayed, so nothing invalid spreads.
   * Default: the items as they are.
   */
  decode?: (items: unknown[]) => M
  /** Sent on the links' urgent lane, ahead of bulk data (small control messages). Default false. */
  urgent?: boolean
}

/** A decoded message of a protocol, as its handler receives it. */
export interface ProtocolMessage<M = unknown> {
  route: Route
  sub: number
  /** What the claim's decoder returned. */
  value: M
  /** The node that originated the message. */
  origin: string
  /**
   * Whether `origin` is proven: in the signed mode a signature by the origin's key (flooded and
   * routed messages) or the link's own proof of key (whispers); never in the unsigned (0.7) mode,
   * where any node can claim any id.
   */
  proven: boolean
  /** The neighbour the message arrived from (the origin itself for a whisper). */
  via: string
  /** The origin's Ed25519 public key, for a message its origin signed (signed mode, flooded and routed). */
  publicKey?: Uint8Array
  /** Hex of the 32-byte message id. */
  id: string
  /** The origin's timestamp, Unix seconds (informational). */
  time: number
  /** Answers the origin: directly if it is a neighbour, else routed through the mesh. */
  reply(sub: number, ...items: unknown[]): Promise<void>
}

/** A network model as the mesh sees it. */
export interface MeshProtocol<M = unknown> {
  /** For errors and stats (e.g. 'user', 'sync', 'chord'). */
  readonly name: string
  readonly claims: readonly MessageClaim<M>[]
  /** Each decoded message of the protocol's claims. A throw is reported as HANDLER_FAILED. */
  onMessage(message: ProtocolMessage<M>): void
  /** A neighbour's handshake completed (send it your initial state). */
  onPeer?(id: string): void
  /** A neighbour left; `reason` says why if it was not a clean close. */
  onPeerLeft?(id: string, reason: P2PError | undefined): void
}

/**
 * What a registered protocol uses to talk to the network. The sending calls and `connect` throw
 * at once for bad arguments, INVALID_ARGUMENT while the mesh is starting and MESH_CLOSED after close().
 */
export interface MeshPort {
  /** This node's id (once the mesh is started: await ready()). */
  readonly id: string
  /** Direct neighbours whose handshake is complete. */
  readonly peers: string[]
  /** Floods a message of sub flag `sub` to every node. Resolves when every neighbour link accepted it. */
  broadcast(sub: number, ...items: unknown[]): Promise<void>
  /** To one node: directly if it is a neighbour, else routed. */
  whisper(to: string, sub: number, ...items: unknown[]): Promise<void>
  /** To a neighbour on its link; throws NOT_A_PEER if `to` is not one. */
  direct(to: string, sub: number, ...items: unknown[]): Promise<void>
  /** To one node through the mesh (routed even if it is a neighbour). */
  routed(to: string, sub: number, ...items: unknown[]): Promise<void>
  /** Opens a link to `id` (inside the transport's connection budget); resolves when it is a peer. */
  connect(id: string): Promise<void>
  /** Closes the link to `id`, if any (the mesh's dialler may later pick it again as a candidate). */
  disconnect(id: string): Promise<void>
  /** Reports an error on the socket's 'error' event. */
  report(err: P2PError): void
  /** Whether the mesh runs the signed mode (then `sign` and `verify` work). */
  readonly signed: boolean
  /** This node's Ed25519 public key (once started). */
  readonly publicKey: Uint8Array
  /**
   * Signs `data` with this node's key, for this protocol and subnet only: the signature covers a
   * context (protocol id and protocol name) so it can never pass for a frame's or another
   * protocol's. For statements a protocol relays on others' behalf (e.g. the sync table's writes).
   */
  sign(data: Uint8Array): Promise<Uint8Array>
  /** Whether `signature` is `signer`'s (whose key is `publicKey`, checked against the id) over `data`, by `sign`'s rule. */
  verify(signer: string, publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>
  /** Removes the protocol: its sub flags are free again and it hears nothing more. */
  unregister(): void
}

/** A claim as the registry keeps it. */
export interface RegisteredClaim {
  readonly protocol: MeshProtocol
  readonly claim: MessageClaim
}

const MAX_SUB = 0xff

/**
 * Which protocol owns each (route, sub flag). The mesh's own link messages (handshake, auth, peer
 * exchange, signals) are claimed by the mesh at construction, so no model can take them.
 */
export class ProtocolRegistry {
  readonly #claims = new Map<number, RegisteredClaim>()
  readonly #protocols = new Set<MeshProtocol>()

  /** Sub flags the mesh keeps for itself, per route. */
  constructor(reserved: Partial<Record<Route, readonly number[]>>) {
    const mesh: MeshProtocol = { name: 'mesh', claims: [], onMessage: () => {} }
    for (const route of ROUTES) for (const sub of reserved[route] ?? []) this.#claims.set(key(route, sub), { protocol: mesh, claim: { route, sub } })
  }

  /** Throws INVALID_ARGUMENT for a malformed protocol, FLAG_TAKEN for a sub flag already claimed (nothing is registered then). */
  add(protocol: MeshProtocol): void {
    if (typeof protocol !== 'object' || protocol === null || typeof protocol.onMessage !== 'function' || !Array.isArray(protocol.claims)) {
      throw new MeshError('INVALID_ARGUMENT', 'register(protocol) needs { name, claims: [...], onMessage }')
    }
    if (this.#protocols.has(protocol)) throw new MeshError('INVALID_ARGUMENT', `protocol ${protocol.name} is already registered`)
    const keys = new Set<number>()
    for (const claim of protocol.claims) {
      if (!ROUTES.includes(claim.route)) throw new MeshError('INVALID_ARGUMENT', `${protocol.name}: unknown route ${String(claim.route)}`)
      if (!Number.isInteger(claim.sub) || claim.sub < 0 || claim.sub > MAX_SUB) {
        throw new MeshError('INVALID_ARGUMENT', `${protocol.name}: sub flag must be an integer 0–255, got ${String(claim.sub)}`)
      }
      const k = key(claim.route, claim.sub)
      const owner = this.#claims.get(k)
      if (owner !== undefined || keys.has(k)) {
        throw new MeshError('FLAG_TAKEN', `${protocol.name}: sub flag 0x${hex(claim.sub)} on route ${claim.route} is ${owner?.protocol.name ?? protocol.name}'s`)
      }
      keys.add(k)
    }
    this.#protocols.add(protocol)
    for (const claim of protocol.claims) this.#claims.set(key(claim.route, claim.sub), { protocol, claim })
  }

  remove(protocol: MeshProtocol): void {
    if (!this.#protocols.delete(protocol)) return
    for (const claim of protocol.claims) this.#claims.delete(key(claim.route, claim.sub))
  }

  get protocols(): Iterable<MeshProtocol> {
    return this.#protocols
  }

  /** The claim of a model's (route, sub), if any: undefined for the mesh's own and for unclaimed flags. */
  lookup(route: Route, sub: unknown): RegisteredClaim | undefined {
    if (typeof sub !== 'number' || !Number.isInteger(sub) || sub < 0 || sub > MAX_SUB) return undefined
    const found = this.#claims.get(key(route, sub))
    return found === undefined || !this.#protocols.has(found.protocol) ? undefined : found
  }

  /** The claim a protocol sends under; throws INVALID_ARGUMENT if it does not own (route, sub). */
  owned(protocol: MeshProtocol, route: Route, sub: number): RegisteredClaim {
    const found = this.#claims.get(key(route, sub))
    if (found?.protocol !== protocol) throw new MeshError('INVALID_ARGUMENT', `${protocol.name} has not claimed sub flag 0x${hex(sub)} on route ${route}`)
    return found
  }
}

/** Runs a claim's decoder on hostile items: FRAME_SHAPE (a WireError) for anything it refuses. */
export function decodeClaimed(registered: RegisteredClaim, items: unknown[]): unknown {
  const decode = registered.claim.decode
  if (decode === undefined) return items
  try {
    return decode(items)
  } catch (err: unknown) {
    const { protocol, claim } = registered
    throw new WireError('FRAME_SHAPE', `malformed ${protocol.name} message 0x${hex(claim.sub)} (${claim.route})`, { cause: err })
  }
}

/** One number per (route, sub flag): no string built per message. */
function key(route: Route, sub: number): number {
  return ROUTE_INDEX[route] * 256 + sub
}

const ROUTE_INDEX: Readonly<Record<Route, number>> = { broadcast: 0, whisper: 1, routed: 2 }

function hex(n: number): string {
  return n.toString(16).padStart(2, '0')
}
