import {
  MAX_PEERS_PER_MESSAGE,
  MessageType,
  isBase58Id,
  isRefusalReason,
  type RefusalReason,
  type RelayType,
} from './protocol.js'

/**
 * Validating codecs for signaling messages. Everything that arrives from the other side of
 * the WebSocket is untrusted: decoders never throw, they return a discriminated union with an
 * `INVALID` arm, and they cap sizes and element counts.
 */

export type JsonObject = Record<string, unknown>

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** JSON.parse behind a guard: never throws. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

/**
 * Which PeerJS message carries a signal blob. The blob is a JSON object: a simple-peer signal
 * object, or an envelope whose `d` is one (the WebRTC transport sends `{ v, s, d }`). Its
 * signal's type decides: offer → OFFER, answer → ANSWER, anything else (candidate,
 * renegotiate, transceiverRequest, unknown) → CANDIDATE. Undefined when `blob` is not a JSON
 * object. The type is a routing label only: receivers validate the blob themselves.
 */
export function relayTypeOf(blob: unknown): RelayType | undefined {
  if (!isJsonObject(blob)) return undefined
  const type = typeof blob.type === 'string' ? blob.type : isJsonObject(blob.d) ? blob.d.type : undefined
  if (type === 'offer') return MessageType.OFFER
  if (type === 'answer') return MessageType.ANSWER
  return MessageType.CANDIDATE
}

export const MAX_ICE_SERVERS = 16
const MAX_ICE_URLS = 8
const MAX_ICE_STRING = 512
const ICE_URL = /^(stun|stuns|turn|turns):/i

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ICE_STRING
}

/** Validates an RTCIceServer list (from an operator or from the server); undefined if malformed. */
export function parseIceServers(value: unknown): RTCIceServer[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_ICE_SERVERS) return undefined
  const out: RTCIceServer[] = []
  for (const entry of value as unknown[]) {
    if (!isJsonObject(entry)) return undefined
    const { urls, username, credential } = entry
    const list: unknown[] | undefined = typeof urls === 'string' ? [urls] : Array.isArray(urls) ? (urls as unknown[]) : undefined
    if (list === undefined || list.length === 0 || list.length > MAX_ICE_URLS) return undefined
    if (!list.every((u) => isShortString(u) && ICE_URL.test(u))) return undefined
    if (username !== undefined && !isShortString(username)) return undefined
    if (credential !== undefined && !isShortString(credential)) return undefined
    const server: RTCIceServer = { urls: typeof urls === 'string' ? urls : (list as string[]) }
    if (username !== undefined) server.username = username
    if (credential !== undefined) server.credential = credential
    out.push(server)
  }
  return out
}

/** Valid, distinct peer ids (at most MAX_PEERS_PER_MESSAGE), or undefined. */
export function parsePeerList(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_PEERS_PER_MESSAGE) return undefined
  if (!(value as unknown[]).every(isBase58Id)) return undefined
  return [...new Set(value as string[])]
}

/** Payload of P2P-WELCOME, sent once after OPEN. */
export interface WelcomePayload {
  id: string
  net: string
  peers: string[]
  iceServers: RTCIceServer[]
  /** How often the client should send HEARTBEAT (a third of the server's alive timeout). */
  heartbeatMs: number
  /** The server's cap on one message; larger ones end the connection (close code 1009). */
  maxMessageBytes: number
}

/** Payload of P2P-PEERS: `seq` is the number of the DISCOVER message it answers. */
export interface PeersPayload {
  seq: number
  peers: string[]
}

/** Payload of ERROR and ID-TAKEN. PeerJS's own errors carry only `msg`. */
export interface RefusalPayload {
  msg: string
  reason: RefusalReason
  /** Number of the client's message this refuses (messages count from 1 after admission). */
  seq?: number
  /** For UNKNOWN_PEER: the destination that was refused. */
  dst?: string
}

export type ServerMessage =
  | { type: 'OPEN' }
  | ({ type: 'WELCOME' } & WelcomePayload)
  | { type: 'PEERS'; seq: number | undefined; peers: string[] }
  | { type: 'SIGNAL'; relay: RelayType; from: string; signal: JsonObject }
  | { type: 'REFUSED'; idTaken: boolean; reason: RefusalReason | undefined; msg: string; seq: number | undefined; dst: string | undefined }
  | { type: 'PEER_GONE'; peer: string }
  | { type: 'IGNORED' }
  | { type: 'INVALID'; why: string }

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

const invalid = (why: string): ServerMessage => ({ type: 'INVALID', why })

/**
 * Decodes one frame from the server. `data` is what the WebSocket delivered (a string for
 * text frames); frames longer than `maxChars` are INVALID without being parsed.
 * Unknown message types decode to IGNORED, for forward compatibility.
 */
export function decodeServerMessage(data: unknown, maxChars: number): ServerMessage {
  if (typeof data !== 'string') return invalid('not a text frame')
  if (data.length > maxChars) return invalid('frame too large')
  const parsed = parseJson(data)
  if (!parsed.ok) return invalid('not JSON')
  const msg = parsed.value
  if (!isJsonObject(msg) || typeof msg.type !== 'string') return invalid('not a message object')
  const payload = msg.payload
  switch (msg.type) {
    case MessageType.OPEN:
      return { type: 'OPEN' }
    case MessageType.WELCOME: {
      if (!isJsonObject(payload)) return invalid('WELCOME without payload')
      const peers = parsePeerList(payload.peers)
      const iceServers = parseIceServers(payload.iceServers)
      const { id, net, heartbeatMs, maxMessageBytes } = payload
      if (!isBase58Id(id) || !isBase58Id(net) || peers === undefined || iceServers === undefined) return invalid('malformed WELCOME')
      if (!isCount(heartbeatMs) || heartbeatMs < 50 || heartbeatMs > 600_000) return invalid('WELCOME heartbeatMs out of range')
      if (!isCount(maxMessageBytes) || maxMessageBytes < 1024) return invalid('WELCOME maxMessageBytes out of range')
      return { type: 'WELCOME', id, net, peers, iceServers, heartbeatMs, maxMessageBytes }
    }
    case MessageType.PEERS: {
      const peers = isJsonObject(payload) ? parsePeerList(payload.peers) : undefined
      if (!isJsonObject(payload) || peers === undefined) return invalid('malformed PEERS')
      return { type: 'PEERS', seq: isCount(payload.seq) ? payload.seq : undefined, peers }
    }
    case MessageType.OFFER:
    case MessageType.ANSWER:
    case MessageType.CANDIDATE: {
      if (!isBase58Id(msg.src)) return invalid('signal without a valid src')
      if (!isJsonObject(payload)) return invalid('signal payload is not a JSON object')
      return { type: 'SIGNAL', relay: msg.type, from: msg.src, signal: payload }
    }
    case MessageType.ERROR:
    case MessageType.ID_TAKEN: {
      const p = isJsonObject(payload) ? payload : {}
      return {
        type: 'REFUSED',
        idTaken: msg.type === MessageType.ID_TAKEN,
        reason: isRefusalReason(p.reason) ? p.reason : msg.type === MessageType.ID_TAKEN ? 'ID_TAKEN' : undefined,
        msg: typeof p.msg === 'string' ? p.msg.slice(0, 200) : '',
        seq: isCount(p.seq) ? p.seq : undefined,
        dst: isBase58Id(p.dst) ? p.dst : undefined,
      }
    }
    case MessageType.LEAVE:
    case MessageType.EXPIRE:
      return isBase58Id(msg.src) ? { type: 'PEER_GONE', peer: msg.src } : invalid(`${msg.type} without a valid src`)
    default:
      return { type: 'IGNORED' }
  }
}
