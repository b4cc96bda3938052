import { WireError } from '../errors.js'
import { FLAGS } from '../wire/flags.js'
import { isB58, MAX_B58_LENGTH } from '../wire/base58.js'
import { sanitizeCompressionList } from '../wire/compression.js'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, type DecodedFrame, type FrameMessage } from '../wire/frame.js'
import { NONCE_BYTES } from '../wire/signed.js'

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
 *   whisper     whisper      …user values                          a user whisper to a neighbour
 *   ping/pong   ping/pong    nonce                                 keepalive
 *   broadcast   broadcast    …user values                          flooded user broadcast
 *   forward     whisper      target id, …user values               user whisper routed to a non-neighbour
 *   forward     signal       target id, blob                       WebRTC signal relayed through the mesh
 */
export const MESH_FLAGS = { ...FLAGS, signal: 0x12, auth: 0x13 } as const

export type MeshMessage =
  | { kind: 'handshake'; id: string; protocolId: string; compressions: number[]; publicKey?: Uint8Array; nonce?: Uint8Array }
  | { kind: 'auth'; signature: Uint8Array }
  | { kind: 'peers'; peers: string[] }
  | { kind: 'peers-request' }
  | { kind: 'ping'; nonce: number }
  | { kind: 'pong'; nonce: number }
  | { kind: 'broadcast'; payload: unknown[] }
  | { kind: 'whisper'; payload: unknown[] }
  | { kind: 'routed-whisper'; target: string; payload: unknown[] }
  | { kind: 'routed-signal'; target: string; blob: Record<string, unknown> }

/** Most peer ids accepted in (and sent in) one peers message. */
export const MAX_PEERS_PER_MESSAGE = 64
const MAX_ID = MAX_B58_LENGTH

function isId(v: unknown): v is string {
  return isB58(v, MAX_ID)
}

/** A node id as str (js2p) or bin (py2p sends ids as bytes); undefined if it is not one. */
function asId(v: unknown): string | undefined {
  if (v instanceof Uint8Array && v.length <= MAX_ID) v = String.fromCharCode(...v)
  return isId(v) ? v : undefined
}

function isNonce(v: unknown): v is number {
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

/** Classifies a frame. Throws FRAME_SHAPE (a WireError) for anything the mesh does not speak. */
export function decodeMeshMessage(frame: DecodedFrame): MeshMessage {
  const [sub, ...rest] = frame.payload
  switch (frame.type) {
    case FLAGS.broadcast:
      if (sub !== FLAGS.broadcast) throw bad('broadcast')
      return { kind: 'broadcast', payload: rest }
    case FLAGS.ping:
    case FLAGS.pong: {
      if (sub !== frame.type || !isNonce(rest[0])) throw bad('keepalive')
      return frame.type === FLAGS.ping ? { kind: 'ping', nonce: rest[0] } : { kind: 'pong', nonce: rest[0] }
    }
    case FLAGS.whisper:
      switch (sub) {
        case FLAGS.whisper:
          return { kind: 'whisper', payload: rest }
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
          throw bad('whisper sub flag')
      }
    case FLAGS.forward: {
      const [rawTarget, ...body] = rest
      const target = asId(rawTarget)
      if (target === undefined) throw bad('forward target')
      if (sub === FLAGS.whisper) return { kind: 'routed-whisper', target, payload: body }
      if (sub === MESH_FLAGS.signal && body.length === 1 && isPlainRecord(body[0])) {
        return { kind: 'routed-signal', target, blob: body[0] }
      }
      throw bad('forward')
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
      return f(FLAGS.broadcast, [FLAGS.broadcast, ...message.payload])
    case 'whisper':
      return f(FLAGS.whisper, [FLAGS.whisper, ...message.payload])
    case 'routed-whisper':
      return f(FLAGS.forward, [FLAGS.whisper, message.target, ...message.payload])
    case 'routed-signal':
      return f(FLAGS.forward, [MESH_FLAGS.signal, message.target, message.blob])
  }
}

/** Messages relayed by other nodes: in the signed mode they must carry their sender's signature. */
export function needsSignature(message: MeshMessage): boolean {
  return message.kind === 'broadcast' || message.kind === 'routed-whisper' || message.kind === 'routed-signal'
}

/** Link-management messages are sent on the urgent lane: they must not wait behind bulk data. */
export function isControl(message: MeshMessage): boolean {
  return message.kind !== 'broadcast' && message.kind !== 'whisper' && message.kind !== 'routed-whisper'
}
