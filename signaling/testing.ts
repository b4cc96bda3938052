import { WebSocket } from 'ws'
import { toBase64url } from '../src/transport/signaling/base64url.js'
import { isJsonObject, parseJson, type JsonObject } from '../src/transport/signaling/messages.js'
import { registrationMessage } from '../src/transport/signaling/protocol.js'
import type { Identity } from '../src/wire/identity.js'
import { protocolId } from '../src/wire/ids.js'

/**
 * Test-only helpers: a raw WebSocket client that speaks the protocol by hand (to send what a
 * well-behaved client never would), registration URL building, and a fake clock.
 */

export const NET_A = protocolId('signaling-test-a', 'webrtc')
export const NET_B = protocolId('signaling-test-b', 'webrtc')

/** A settable clock for nonces and rate limits. */
export class FakeClock {
  now = 1_700_000_000_000
  readonly read = (): number => this.now
  advance(ms: number): void {
    this.now += ms
  }
}

export async function fetchNonce(url: string): Promise<string> {
  const res = await fetch(new URL('/p2p/challenge', url))
  const body = (await res.json()) as { nonce?: unknown }
  if (res.status !== 200 || typeof body.nonce !== 'string') throw new Error(`challenge failed: HTTP ${res.status}`)
  return body.nonce
}

export interface RegistrationParts {
  id: string
  token: string
  net: string
  pub: Uint8Array
  nonce: string
  sig: Uint8Array
}

/**
 * Honest registration parts for `identity`, with a fresh nonce and, like a real client, a
 * fresh random PeerJS token; tests then tamper with them.
 */
export async function registrationParts(url: string, identity: Identity, net: string = NET_A): Promise<RegistrationParts> {
  const nonce = await fetchNonce(url)
  const sig = await identity.sign(registrationMessage(nonce, identity.id, net))
  return { id: identity.id, token: toBase64url(crypto.getRandomValues(new Uint8Array(16))), net, pub: identity.publicKey, nonce, sig }
}

/** The WebSocket URL for `parts`; `extra` appends raw query text (e.g. a duplicate id). */
export function socketUrl(url: string, parts: RegistrationParts, extra = ''): string {
  const ws = new URL('/peerjs', url.replace(/^http/, 'ws'))
  ws.searchParams.set('key', 'peerjs')
  ws.searchParams.set('id', parts.id)
  ws.searchParams.set('token', parts.token)
  ws.searchParams.set('net', parts.net)
  ws.searchParams.set('pub', toBase64url(parts.pub))
  ws.searchParams.set('nonce', parts.nonce)
  ws.searchParams.set('sig', toBase64url(parts.sig))
  return ws.toString() + extra
}

/** A raw protocol client: queues every frame the server sends, in order. */
export class RawClient {
  readonly socket: WebSocket
  readonly closed: Promise<{ code: number; reason: string }>
  readonly #queue: unknown[] = []
  readonly #waiters: ((msg: unknown) => void)[] = []

  private constructor(socket: WebSocket) {
    this.socket = socket
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    socket.on('error', () => {})
    socket.on('message', (data, isBinary) => {
      const parsed = isBinary ? { ok: false as const } : parseJson(data.toString())
      const msg: unknown = parsed.ok ? parsed.value : { unparsable: true }
      const waiter = this.#waiters.shift()
      if (waiter !== undefined) waiter(msg)
      else this.#queue.push(msg)
    })
  }

  /** Opens the socket; resolves once open (the server's verdict arrives as frames after). */
  static open(url: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url)
      const client = new RawClient(socket)
      socket.once('open', () => resolve(client))
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      socket.once('error', reject)
    })
  }

  /** The next frame from the server (an object, or { unparsable: true }). */
  next(): Promise<JsonObject> {
    const queued = this.#queue.shift()
    if (queued !== undefined) return Promise.resolve(asObject(queued))
    return new Promise((resolve) => this.#waiters.push((msg) => resolve(asObject(msg))))
  }

  /** Skips frames until one of `type` arrives. */
  async nextOfType(type: string): Promise<JsonObject> {
    for (;;) {
      const msg = await this.next()
      if (msg.type === type) return msg
    }
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close()
    return this.closed
  }
}

function asObject(msg: unknown): JsonObject {
  return isJsonObject(msg) ? msg : { notAnObject: msg }
}

/** Registers `identity` honestly with a raw client; resolves after P2P-WELCOME. */
export async function joinRaw(url: string, identity: Identity, net: string = NET_A): Promise<{ client: RawClient; welcome: JsonObject }> {
  const client = await RawClient.open(socketUrl(url, await registrationParts(url, identity, net)))
  const open = await client.next()
  if (open.type !== 'OPEN') throw new Error(`expected OPEN, got ${JSON.stringify(open)}`)
  const welcome = await client.next()
  if (welcome.type !== 'P2P-WELCOME') throw new Error(`expected P2P-WELCOME, got ${JSON.stringify(welcome)}`)
  return { client, welcome }
}
