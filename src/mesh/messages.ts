import { WireError } from '../errors.js'
import { FLAGS } from '../wire/flags.js'
import { isNodeId, MAX_ID_LENGTH } from '../wire/base58.js'
import { sanitizeCompressionList } from '../wire/compression.js'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, type DecodedFrame, type FrameMessage } from '../wire/frame.js'
import { NONCE_BYTES } from '../wire/signed.js'
import { decodeClaimed, type ProtocolRegistry, type RegisteredClaim, type Route } from './protocol.js'

/**
 * The mesh's messages, as frames (docs/protocol.md, "Mesh"). One validating decoder turns a
 * decoded frame into this union; everything the mesh does starts from it.
 *
 *   main        sub          payload after the sub flag            meaning
 *   whisper     handshake    id, protocol id, [], compressions     first frame on every link (0.7 shape;
 *                            (signed mode: + public key, nonce)     signed mode adds two items)
 *   whisper     auth         signature                             signed mode: proof of the key, per link
 *   whisper     peers        [[[], id], …]                         peer exchange (0.7 shape)
 *   whisper     request      —                                     please send your peers
 *   whisper     (claimed)    …items                                a protocol's whisper to a neighbour
 *   ping/pong   ping/pong    nonce                                 keepalive
 *   broadcast   (claimed)    …items                                a protocol's flooded message
 *   forward     (claimed)    target id, …items                     a protocol's message routed to any node
 *   forward     signal       target id, blob                       WebRTC signal relayed through the mesh
 *
 * "(claimed)": a sub flag a protocol registered on that route (protocol.ts). User messages are the
 * first protocol: broadcast 0x00 on broadcast, whisper 0x02 on whisper and on forward (0.7's).
 */
export const MESH_FLAGS = { ...FLAGS, signal: 0x12, auth: 0x13 } as const

export type MeshMessage =
  | { kind: 'handshake'; id: string; protocolId: string; compressions: number[]; publicKey?: Uint8Array; nonce?: Uint8Array }
  | { kind: 'auth'; signature: Uint8Array }
  | { kind: 'peers'; peers: string[] }
  | { kind: 'peers-request' }
  | { kind: 'ping'; nonce: number }
  | { kind: 'pong'; nonce: number }
  | ProtocolWire
  | { kind: 'routed-signal'; target: string; blob: Record<string, unknown> }

/**
 * A protocol's message on one of the three routes. `sub` defaults to the user messages' flag
 * (broadcast 0x00, whisper 0x02). Decoded with a registry, `claim` names its owner and `value` is
 * what the owner's decoder made of `payload`.
 */
export type ProtocolWire = (
  | { kind: 'broadcast'; payload: unknown[] }
  | { kind: 'whisper'; payload: unknown[] }
  | { kind: 'routed-whisper'; target: string; payload: unknown[] }
) & { sub?: number; claim?: RegisteredClaim; value?: unknown }

/** The user messages' sub flag per route (0.7's). */
export const USER_SUB: Readonly<Record<Route, number>> = { broadcast: FLAGS.broadcast, whisper: FLAGS.whisper, routed: FLAGS.whisper }

/** Sub flags the mesh keeps for its own link messages, per route. */
export const MESH_RESERVED: Readonly<Partial<Record<Route, readonly number[]>>> = {
  whisper: [FLAGS.handshake, FLAGS.peers, FLAGS.request, MESH_FLAGS.auth],
  routed: [MESH_FLAGS.signal],
}

/** The route of a protocol message kind. */
export function routeOf(message: ProtocolWire): Route {
  return message.kind === 'routed-whisper' ? 'routed' : message.kind
}

/** Most peer ids accepted in (and sent in) one peers message. */
export const MAX_PEERS_PER_MESSAGE = 64
const MAX_ID = MAX_ID_LENGTH

function isId(v: unknown): v is string {
  return isNodeId(v)
}

/** A node id as str (js2p) or bin (py2p sends ids as bytes); undefined if it is not one. */
function asId(v: unknown): string | undefined {
  if (v instanceof Uint8Array && v.length <= MAX_ID) v = String.fromCharCode(...v)
  return isId(v) ? v : undefined
}

/** A nonce (keepalive, reach check): an integer 0 … 2^53 − 1. */
export function isNonce(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function isBytes(v: unknown, length: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length === length
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

function bad(what: string): WireError {
  return new WireError('FRAME_SHAPE', `malformed ${what}`)
}

/**
 * A protocol message of `kind`, `sub`: with a registry, only a claimed sub flag, decoded by its
 * owner (FRAME_SHAPE otherwise); without one (test peers, fuzz targets), any sub flag as it is.
 */
function claimed(registry: ProtocolRegistry | undefined, message: ProtocolWire & { sub: number }): ProtocolWire {
  if (registry === undefined) return message
  const claim = registry.lookup(routeOf(message), message.sub)
  if (claim === undefined) throw bad(`${message.kind} sub flag ${String(message.sub)}`)
  message.claim = claim
  message.value = decodeClaimed(claim, message.payload)
  return message
}

function isSub(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff
}

/**
 * Classifies a frame. Throws FRAME_SHAPE (a WireError) for anything the mesh does not speak: with
 * `registry`, also for a protocol message whose sub flag nobody claimed or whose items its
 * owner's decoder refused.
 */
export function decodeMeshMessage(frame: DecodedFrame, registry?: ProtocolRegistry): MeshMessage {
  const [sub, ...rest] = frame.payload
  switch (frame.type) {
    case FLAGS.broadcast:
      if (!isSub(sub)) throw bad('broadcast')
      return claimed(registry, { kind: 'broadcast', sub, payload: rest })
    case FLAGS.ping:
    case FLAGS.pong: {
      if (sub !== frame.type || !isNonce(rest[0])) throw bad('keepalive')
      return frame.type === FLAGS.ping ? { kind: 'ping', nonce: rest[0] } : { kind: 'pong', nonce: rest[0] }
    }
    case FLAGS.whisper:
      switch (sub) {
        case FLAGS.handshake: {
          const id = asId(rest[0])
          const protocolId = asId(rest[1])
          const compressions = rest[3]
          if (id === undefined || protocolId === undefined || id !== frame.sender) throw bad('handshake')
          const handshake: MeshMessage = { kind: 'handshake', id, protocolId, compressions: sanitizeCompressionList(compressions) }
          // Signed mode: the public key and a nonce follow (0.7 nodes send neither).
          if (rest.length > 4) {
            const [publicKey, nonce] = rest.slice(4)
            if (!isBytes(publicKey, PUBLIC_KEY_BYTES) || !isBytes(nonce, NONCE_BYTES)) throw bad('signed handshake')
            Object.assign(handshake, { publicKey, nonce })
          }
          return handshake
        }
        case MESH_FLAGS.auth: {
          if (rest.length !== 1 || !isBytes(rest[0], SIGNATURE_BYTES)) throw bad('auth')
          return { kind: 'auth', signature: rest[0] }
        }
        case FLAGS.peers: {
          const list = rest[0]
          if (!Array.isArray(list) || list.length > MAX_PEERS_PER_MESSAGE) throw bad('peers')
          const peers: string[] = []
          for (const entry of list) {
            const id = asId(Array.isArray(entry) ? entry[1] : undefined)
            if (id === undefined) throw bad('peers entry')
            if (!peers.includes(id)) peers.push(id)
          }
          return { kind: 'peers', peers }
        }
        case FLAGS.request:
          return { kind: 'peers-request' }
        default:
          if (!isSub(sub)) throw bad('whisper sub flag')
          return claimed(registry, { kind: 'whisper', sub, payload: rest })
      }
    case FLAGS.forward: {
      const [rawTarget, ...body] = rest
      const target = asId(rawTarget)
      if (target === undefined) throw bad('forward target')
      if (sub === MESH_FLAGS.signal) {
        if (body.length === 1 && isPlainRecord(body[0])) return { kind: 'routed-signal', target, blob: body[0] }
        throw bad('forward signal')
      }
      if (!isSub(sub)) throw bad('forward')
      return claimed(registry, { kind: 'routed-whisper', sub, target, payload: body })
    }
    default:
      throw bad(`main flag 0x${frame.type.toString(16)}`)
  }
}

/** The frame (before encoding) for a message from `sender` at `time` (Unix seconds). */
export function meshFrame(message: MeshMessage, sender: string, time: number): FrameMessage {
  const f = (type: number, payload: unknown[]): FrameMessage => ({ type, sender, time, payload })
  switch (message.kind) {
    case 'handshake': {
      const signed = message.publicKey !== undefined && message.nonce !== undefined ? [message.publicKey, message.nonce] : []
      return f(FLAGS.whisper, [FLAGS.handshake, message.id, message.protocolId, [], message.compressions, ...signed])
    }
    case 'auth':
      return f(FLAGS.whisper, [MESH_FLAGS.auth, message.signature])
    case 'peers':
      return f(FLAGS.whisper, [FLAGS.peers, message.peers.slice(0, MAX_PEERS_PER_MESSAGE).map((id) => [[], id])])
    case 'peers-request':
      return f(FLAGS.whisper, [FLAGS.request])
    case 'ping':
      return f(FLAGS.ping, [FLAGS.ping, message.nonce])
    case 'pong':
      return f(FLAGS.pong, [FLAGS.pong, message.nonce])
    case 'broadcast':
      return f(FLAGS.broadcast, [message.sub ?? USER_SUB.broadcast, ...message.payload])
    case 'whisper':
      return f(FLAGS.whisper, [message.sub ?? USER_SUB.whisper, ...message.payload])
    case 'routed-whisper':
      return f(FLAGS.forward, [message.sub ?? USER_SUB.routed, message.target, ...message.payload])
    case 'routed-signal':
      return f(FLAGS.forward, [MESH_FLAGS.signal, message.target, message.blob])
  }
}

/** Messages relayed by other nodes: in the signed mode they must carry their sender's signature. */
export function needsSignature(message: MeshMessage): boolean {
  return message.kind === 'broadcast' || message.kind === 'routed-whisper' || message.kind === 'routed-signal'
}

/**
 * Link-management messages are sent on the urgent lane: they must not wait behind bulk data; so
 * are a protocol's messages whose claim says `urgent`.
 */
export function isControl(message: MeshMessage): boolean {
  if (message.kind === 'broadcast' || message.kind === 'whisper' || message.kind === 'routed-whisper') return message.claim?.claim.urgent === true
  return true
}
