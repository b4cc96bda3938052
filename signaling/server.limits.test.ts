import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CLOSE_CODES, CLOSE_REPLACED } from '../src/transport/signaling/protocol.js'
import { Identity } from '../src/wire/identity.js'
import { startSignalingServer, type SignalingServer, type SignalingServerOptions } from './server.js'
import { FakeClock, NET_A, NET_B, RawClient, joinRaw, registrationParts, socketUrl } from './testing.js'

/**
 * Hardening: the server refuses what it must, says why, and keeps serving everyone else.
 */
const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((fn) => fn()))
})

let clock: FakeClock
beforeEach(() => {
  clock = new FakeClock()
})

async function start(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const server = await startSignalingServer({ port: 0, ...options }, { now: clock.read })
  cleanup.push(() => server.close())
  return server
}

async function join(server: SignalingServer, net = NET_A) {
  const identity = await Identity.generate()
  const { client } = await joinRaw(server.url, identity, net)
  cleanup.push(() => client.close())
  return { id: identity.id, client }
}

/** Opens a registration socket and returns its first frame and close code (for refusals). */
async function refusal(server: SignalingServer): Promise<{ first: Record<string, unknown>; code: number }> {
  const client = await RawClient.open(socketUrl(server.url, await registrationParts(server.url, await Identity.generate())))
  cleanup.push(() => client.close())
  const first = await client.next()
  return { first, code: (await client.closed).code }
}

/** The client is still registered and served: a discovery round trip works. */
async function expectServed(client: RawClient): Promise<void> {
  client.send({ type: 'P2P-DISCOVER' })
  expect(await client.nextOfType('P2P-PEERS')).toMatchObject({ type: 'P2P-PEERS' })
}

describe('invalid messages', () => {
  it.each([
    ['malformed JSON', '{"type":"OFFER",'],
    ['a JSON array', '[1,2]'],
    ['JSON null', 'null'],
    ['an unknown type', JSON.stringify({ type: 'SHOUT', dst: NET_A })],
    ['a client-sent LEAVE', JSON.stringify({ type: 'LEAVE' })],
    ['an OFFER whose payload is not a signal', JSON.stringify({ type: 'OFFER', dst: NET_A, payload: 'sdp' })],
  ])('refuses %s with INVALID_MESSAGE and keeps the socket', async (_name, frame) => {
    const server = await start()
    const { client } = await join(server)
    client.send({ type: 'HEARTBEAT' })
    client.send(frame)
    expect(await client.next()).toMatchObject({ type: 'ERROR', payload: { reason: 'INVALID_MESSAGE', seq: 2 } })
    await expectServed(client)
  })

  it('refuses binary frames with INVALID_MESSAGE', async () => {
    const server = await start()
    const { client } = await join(server)
    client.socket.send(Buffer.from('{"type":"HEARTBEAT"}'), { binary: true })
    expect(await client.next()).toMatchObject({ type: 'ERROR', payload: { reason: 'INVALID_MESSAGE', seq: 1 } })
    await expectServed(client)
  })

  it('closes a socket that sends more than maxMessageBytes (1009), and keeps serving the rest', async () => {
    const server = await start({ maxMessageBytes: 4096 })
    const a = await join(server)
    const b = await join(server)
    a.client.send({ type: 'CANDIDATE', dst: b.id, payload: { type: 'candidate', pad: 'x'.repeat(5000) } })
    expect((await a.client.closed).code).toBe(1009)
    await expectServed(b.client)
  })
})

describe('destinations', () => {
  it('refuses a destination that is not registered (UNKNOWN_PEER), without queueing it', async () => {
    const server = await start()
    const a = await join(server)
    const ghost = (await Identity.generate()).id
    a.client.send({ type: 'OFFER', dst: ghost, payload: { type: 'offer', sdp: '' } })
    expect(await a.client.next()).toMatchObject({ type: 'ERROR', payload: { reason: 'UNKNOWN_PEER', dst: ghost, seq: 1 } })
  })

  it('refuses a destination in another subnet exactly like an unknown one, and never delivers it', async () => {
    const server = await start()
    const a = await join(server, NET_A)
    const b = await join(server, NET_A)
    const x = await join(server, NET_B)
    x.client.send({ type: 'OFFER', dst: a.id, payload: { type: 'offer', sdp: 'from x' } })
    expect(await x.client.next()).toMatchObject({ type: 'ERROR', payload: { reason: 'UNKNOWN_PEER', dst: a.id } })
    // Relays reach a's socket in the order the server handles them: had x's offer been
    // relayed, it would arrive before b's, which is sent after x saw its refusal.
    b.client.send({ type: 'OFFER', dst: a.id, payload: { type: 'offer', sdp: 'from b' } })
    expect(await a.client.next()).toMatchObject({ type: 'OFFER', src: b.id, payload: { sdp: 'from b' } })
  })

  it('refuses signaling oneself', async () => {
    const server = await start()
    const a = await join(server)
    a.client.send({ type: 'CANDIDATE', dst: a.id, payload: { type: 'candidate', candidate: {} } })
    expect(await a.client.next()).toMatchObject({ type: 'ERROR', payload: { reason: 'UNKNOWN_PEER' } })
  })
})

describe('message floods', () => {
  it('refuses messages over the rate (RATE_LIMITED), then closes a socket that keeps flooding', async () => {
    const server = await start({ messagesPerSecond: 1, messageBurst: 4 })
    const a = await join(server)
    const b = await join(server)
    for (let i = 0; i < 5; i++) a.client.send({ type: 'HEARTBEAT' })
    expect(await a.client.next()).toMatchObject({ type: 'ERROR', payload: { reason: 'RATE_LIMITED', seq: 5 } })
    clock.advance(1000)
    await expectServed(a.client)
    for (let i = 0; i < 10; i++) a.client.send({ type: 'HEARTBEAT' })
    expect((await a.client.closed).code).toBe(CLOSE_CODES.RATE_LIMITED)
    await expectServed(b.client)
  })
})

describe('connection floods', () => {
  it('limits registered clients per IP (RATE_LIMITED)', async () => {
    const server = await start({ maxClientsPerIp: 2 })
    const a = await join(server)
    await join(server)
    const { first, code } = await refusal(server)
    expect(first).toMatchObject({ type: 'ERROR', payload: { reason: 'RATE_LIMITED' } })
    expect(code).toBe(CLOSE_CODES.RATE_LIMITED)
    await expectServed(a.client)
    await a.client.close()
    // A slot frees when a client leaves (once the server has noticed).
    for (;;) {
      const client = await RawClient.open(socketUrl(server.url, await registrationParts(server.url, await Identity.generate())))
      cleanup.push(() => client.close())
      if ((await client.next()).type === 'OPEN') break
    }
  })

  it('lets a node take its own id over at the per-IP and server-wide caps (a reload)', async () => {
    const server = await start({ maxClientsPerIp: 1, maxClients: 1 })
    const identity = await Identity.generate()
    // The server is full once the first session is in: the challenge for the takeover comes first.
    const parts = await registrationParts(server.url, identity)
    const first = await joinRaw(server.url, identity)
    cleanup.push(() => first.client.close())
    const again = await RawClient.open(socketUrl(server.url, parts))
    cleanup.push(() => again.close())
    expect(await again.next()).toMatchObject({ type: 'OPEN' })
    expect(await again.next()).toMatchObject({ type: 'P2P-WELCOME' })
    expect((await first.client.closed).code).toBe(CLOSE_REPLACED)
    await expectServed(again)
    expect(server.clients).toBe(1)
  })

  it('limits registered clients server-wide (SERVER_FULL), at the challenge too', async () => {
    const server = await start({ maxClients: 2 })
    const a = await join(server)
    const parts = await registrationParts(server.url, await Identity.generate())
    await join(server)
    const challenge = await fetch(`${server.url}/p2p/challenge`)
    expect(challenge.status).toBe(503)
    expect(await challenge.json()).toMatchObject({ reason: 'SERVER_FULL' })
    const client = await RawClient.open(socketUrl(server.url, parts))
    cleanup.push(() => client.close())
    expect(await client.next()).toMatchObject({ type: 'ERROR', payload: { reason: 'SERVER_FULL' } })
    expect((await client.closed).code).toBe(CLOSE_CODES.SERVER_FULL)
    await expectServed(a.client)
  })

  it('rate-limits attempts per IP (challenges and WebSocket upgrades), refilling over time', async () => {
    const server = await start({ connectAttemptsPerMinute: 4 })
    const a = await join(server) // 2 attempts: challenge + upgrade
    const parts = await registrationParts(server.url, await Identity.generate()) // 3
    expect((await fetch(`${server.url}/p2p/challenge`)).status).toBe(200) // 4
    const refused = await fetch(`${server.url}/p2p/challenge`)
    expect(refused.status).toBe(429)
    expect(await refused.json()).toMatchObject({ reason: 'RATE_LIMITED' })
    const client = await RawClient.open(socketUrl(server.url, parts))
    cleanup.push(() => client.close())
    expect(await client.next()).toMatchObject({ type: 'ERROR', payload: { reason: 'RATE_LIMITED' } })
    await expectServed(a.client)
    clock.advance(30_000)
    await join(server)
  })
})
