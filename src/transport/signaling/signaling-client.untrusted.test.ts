import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { serveFake } from '../../testing/fake-signaling.js'
import { nextClientEvent } from '../../testing/client-events.js'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { hasCode, type TransportError } from '../../errors.js'
import { Identity } from '../../wire/identity.js'
import { protocolId } from '../../wire/ids.js'
import { SignalingClient } from './signaling-client.js'

/**
 * The client against a fake server that misbehaves: everything a server sends is untrusted.
 * Timeouts here are injected and tiny; nothing sleeps.
 */
const NET = protocolId('untrusted-test', 'webrtc')
const NONCE = 'A'.repeat(54)

interface Fake {
  url: string
  /** Sockets the fake accepted, in order. */
  sockets: WebSocket[]
  /** Frames received on any socket. */
  received: string[]
}

type Behaviour = {
  challenge?: (req: IncomingMessage, res: ServerResponse) => void
  socket?: (socket: WebSocket, url: URL) => void
  /** Answer WebSocket upgrades with HTTP 403 instead. */
  refuseUpgrade?: boolean
}

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((fn) => fn()))
})

let identity: Identity
beforeAll(async () => {
  identity = await Identity.generate()
})

async function fake(behaviour: Behaviour): Promise<Fake> {
  const received: string[] = []
  const sockets: WebSocket[] = []
  const http = createServer((req, res) => {
    if (behaviour.challenge !== undefined) return behaviour.challenge(req, res)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ nonce: NONCE, expiresInMs: 30_000 }))
  })
  const wss = new WebSocketServer({ noServer: true })
  http.on('upgrade', (req, socket, head) => {
    if (behaviour.refuseUpgrade === true) socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
    else wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  wss.on('connection', (socket, req) => {
    sockets.push(socket)
    socket.on('message', (data) => received.push(data.toString()))
    behaviour.socket?.(socket, new URL(req.url ?? '/', 'http://fake'))
  })
  const { url, close } = await serveFake(http, wss)
  cleanup.push(close)
  return { url, sockets, received }
}

/** A well-formed OPEN + WELCOME for the connecting id. */
function welcome(socket: WebSocket, url: URL, overrides: Record<string, unknown> = {}): void {
  socket.send(JSON.stringify({ type: 'OPEN' }))
  const payload = { id: url.searchParams.get('id'), net: url.searchParams.get('net'), peers: [], iceServers: [], heartbeatMs: 60_000, maxMessageBytes: 65_536 }
  socket.send(JSON.stringify({ type: 'P2P-WELCOME', payload: { ...payload, ...overrides } }))
}

async function connect(url: string, timeoutMs = 300, reconnect = false): Promise<SignalingClient> {
  const client = await SignalingClient.connect({ url, identity, net: NET, WebSocket, timeoutMs, reconnect })
  cleanup.push(() => client.close())
  return client
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected ${code}`).toSatisfy((e: unknown) => hasCode(e, code as never))
}

const next = nextClientEvent

describe('connect() against a misbehaving server', () => {
  it('times out (SIGNALING_TIMEOUT) when the challenge never comes', async () => {
    const server = await fake({ challenge: () => {} })
    await expectCode(connect(server.url), 'SIGNALING_TIMEOUT')
  })

  it.each([
    ['not JSON', 200, 'nonce please'],
    ['no nonce', 200, '{"hello":1}'],
    ['a nonce with odd characters', 200, '{"nonce":"<script>alert(1)</script>"}'],
    ['a huge body', 200, JSON.stringify({ nonce: NONCE, pad: 'x'.repeat(100_000) })],
  ])('refuses a challenge answer with %s (INVALID_MESSAGE)', async (_name, status, body) => {
    const server = await fake({ challenge: (_req, res) => res.writeHead(status).end(body) })
    await expectCode(connect(server.url), 'INVALID_MESSAGE')
  })

  it('maps challenge refusals: 429 → RATE_LIMITED, others → SIGNALING_REFUSED', async () => {
    const limited = await fake({ challenge: (_req, res) => res.writeHead(429).end() })
    await expectCode(connect(limited.url), 'RATE_LIMITED')
    const broken = await fake({ challenge: (_req, res) => res.writeHead(500).end('{"reason":"made up"}') })
    await expectCode(connect(broken.url), 'SIGNALING_REFUSED')
  })

  it('times out, and closes its socket, when the welcome never comes', async () => {
    const server = await fake({ socket: (socket) => socket.send(JSON.stringify({ type: 'OPEN' })) })
    await expectCode(connect(server.url), 'SIGNALING_TIMEOUT')
    const socket = server.sockets[0]!
    if (socket.readyState !== socket.CLOSED) await new Promise((resolve) => socket.once('close', resolve))
  })

  it.each([
    ['a welcome for another id', (s: WebSocket, u: URL) => welcome(s, u, { id: protocolId('other', 'webrtc') })],
    ['a welcome for another network', (s: WebSocket, u: URL) => welcome(s, u, { net: protocolId('other', 'webrtc') })],
    ['a malformed welcome', (s: WebSocket, u: URL) => welcome(s, u, { peers: 'everyone' })],
    ['garbage before the welcome', (s: WebSocket) => s.send('{"type":')],
  ])('refuses %s (INVALID_MESSAGE)', async (_name, socket) => {
    const server = await fake({ socket })
    await expectCode(connect(server.url), 'INVALID_MESSAGE')
  })

  it('reads the reason from the close code when the ERROR frame is missing', async () => {
    const server = await fake({ socket: (socket) => socket.close(4401, 'BAD_SIGNATURE') })
    await expectCode(connect(server.url), 'AUTH_FAILED')
  })

  it('reports SIGNALING_CLOSED for a plain close before the welcome, SIGNALING_UNREACHABLE for a refused upgrade', async () => {
    const closing = await fake({ socket: (socket) => socket.close(1000) })
    await expectCode(connect(closing.url), 'SIGNALING_CLOSED')
    const refusing = await fake({ refuseUpgrade: true })
    await expectCode(connect(refusing.url), 'SIGNALING_UNREACHABLE')
  })
})

/** A fake server that welcomes every client, and the server side of the last socket. */
async function welcomingFake(): Promise<{ server: Awaited<ReturnType<typeof fake>>; socket: () => WebSocket }> {
  let last: WebSocket | undefined
  const server = await fake({
    socket: (s, u) => {
      last = s
      welcome(s, u)
    },
  })
  return { server, socket: () => last! }
}

describe('an open client against a misbehaving server', () => {
  it('reports invalid frames as INVALID_MESSAGE errors, drops them, and keeps going', async () => {
    const { server, socket: socketOf } = await welcomingFake()
    const client = await connect(server.url)
    const errors: TransportError[] = []
    client.on('error', (err) => errors.push(err))
    const signals: unknown[] = []
    client.on('signal', (from, data) => signals.push([from, data]))
    const peer = protocolId('peer', 'webrtc')
    const got = next(client, 'signal')
    for (const frame of [
      'not json',
      JSON.stringify({ type: 'OFFER', src: peer, payload: ['not', 'an', 'object'] }),
      JSON.stringify({ type: 'CANDIDATE', src: 'bad src!', payload: { type: 'candidate' } }),
      JSON.stringify({ type: 'P2P-PEERS', payload: { peers: [{}] } }),
      JSON.stringify({ type: 'FUTURE-THING' }),
      JSON.stringify({ type: 'OFFER', src: peer, payload: { type: 'offer', sdp: 'good' } }),
    ]) {
      socketOf().send(frame)
    }
    expect(await got).toEqual([peer, { type: 'offer', sdp: 'good' }])
    expect(signals).toHaveLength(1)
    expect(errors.map((e) => e.code)).toEqual(['INVALID_MESSAGE', 'INVALID_MESSAGE', 'INVALID_MESSAGE', 'INVALID_MESSAGE'])
    expect(client.state).toBe('open')
  })

  it('times out a discover the server ignores, and rejects one it refuses by seq', async () => {
    const { server, socket: socketOf } = await welcomingFake()
    const client = await connect(server.url, 150)
    await expectCode(client.discover(), 'SIGNALING_TIMEOUT')
    const refused = client.discover()
    socketOf().send(JSON.stringify({ type: 'ERROR', payload: { msg: 'slow down', reason: 'RATE_LIMITED', seq: 2 } }))
    await expectCode(refused, 'RATE_LIMITED')
    expect(server.received).toEqual(['{"type":"P2P-DISCOVER"}', '{"type":"P2P-DISCOVER"}'])
  })

  it.each([
    [1009, 'MESSAGE_TOO_LARGE'],
    [4429, 'RATE_LIMITED'],
    [1001, 'SIGNALING_CLOSED'],
    [4301, 'SIGNALING_CLOSED'],
  ])('without reconnect, turns close code %i into a close event with %s', async (code, expected) => {
    const { server, socket: socketOf } = await welcomingFake()
    const client = await connect(server.url)
    const closed = next(client, 'close')
    socketOf().close(code)
    expect((await closed)[0]?.code).toBe(expected)
  })
})
