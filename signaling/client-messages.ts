import { isJsonObject, parseJson, type JsonObject } from '../src/transport/signaling/messages.js'
import { MessageType, isBase58Id, type RelayType } from '../src/transport/signaling/protocol.js'

/**
 * The one validating decoder for frames a client sends. PeerJS itself JSON.parses whatever
 * arrives and silently drops what it cannot route (and queues messages for unknown ids);
 * frames reach it only after this decoder accepted them, re-serialized from the decoded value.
 */
export type ClientMessage =
  | { kind: 'heartbeat' }
  | { kind: 'discover' }
  | { kind: 'relay'; type: RelayType; dst: string; payload: JsonObject }
  | { kind: 'invalid'; why: string }

const invalid = (why: string): ClientMessage => ({ kind: 'invalid', why })

/** `data` as ws delivers it (Buffer, ArrayBuffer or Buffer[]); `isBinary` from ws. */
export function decodeClientMessage(data: unknown, isBinary: boolean, maxBytes: number): ClientMessage {
  if (isBinary) return invalid('binary frames are not part of the protocol')
  const bytes = toBuffer(data)
  if (bytes === undefined) return invalid('unreadable frame')
  if (bytes.length > maxBytes) return invalid('message too large')
  const parsed = parseJson(bytes.toString('utf8'))
  if (!parsed.ok) return invalid('not JSON')
  const msg = parsed.value
  if (!isJsonObject(msg) || typeof msg.type !== 'string') return invalid('not a message object with a string type')
  switch (msg.type) {
    case MessageType.HEARTBEAT:
      return { kind: 'heartbeat' }
    case MessageType.DISCOVER:
      return { kind: 'discover' }
    case MessageType.OFFER:
    case MessageType.ANSWER:
    case MessageType.CANDIDATE: {
      if (!isBase58Id(msg.dst)) return invalid('dst must be a node id')
      // The payload is relayed as is; its receiver validates it. Only its shape is checked here.
      if (!isJsonObject(msg.payload)) return invalid('payload must be a JSON object')
      return { kind: 'relay', type: msg.type, dst: msg.dst, payload: msg.payload }
    }
    default:
      // LEAVE and EXPIRE are PeerJS types too, but only the server originates them here.
      return invalid('unknown message type')
  }
}

function toBuffer(data: unknown): Buffer | undefined {
  if (Buffer.isBuffer(data)) return data
  if (data instanceof ArrayBuffer) return Buffer.from(data)
  if (Array.isArray(data) && data.every((d) => Buffer.isBuffer(d))) return Buffer.concat(data)
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  return undefined
}

/** The frame handed on to PeerJS for a relay message: only the fields PeerJS routes on. */
export function relayFrame(msg: { type: RelayType; dst: string; payload: JsonObject }): string {
  return JSON.stringify({ type: msg.type, dst: msg.dst, payload: msg.payload })
}

export const HEARTBEAT_FRAME = JSON.stringify({ type: MessageType.HEARTBEAT })
