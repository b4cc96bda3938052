import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { CLOSE_REPLACED } from '../src/transport/signaling/protocol.js'
import { Identity } from '../src/wire/identity.js'
import { startSignalingServer, type SignalingServer, type SignalingServerOptions } from './server.js'
import { NET_A, NET_B, joinRaw, type RawClient } from './testing.js'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((fn) => fn()))
})

async function start(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const server = await startSignalingServer({ port: 0, ...options })
  cleanup.push(() => server.close())
  return server
}

async function join(server: SignalingServer, identity: Identity, net = NET_A) {
  const joined = await joinRaw(server.url, identity, net)
  cleanup.push(() => joined.client.close())
  return joined
}

const ids: Identity[] = []
beforeAll(async () => {
  for (let i = 0; i < 6; i++) ids.push(await Identity.generate())
})
const id = (i: number): Identity => ids[i]!

describe('signaling server: HTTP surface', () => {
  it('binds 127.0.0.1 on a free port and reports its URL', async () => {
    const server = await start()
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    expect(server.port).toBeGreaterThan(0)
  })

  it('hands out challenges (no-store, any origin) and keeps PeerJS /peers discovery off', async () => {
    const server = await start()
    const res = await fetch(`${server.url}/p2p/challenge`)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const body = (await res.json()) as { nonce: string; expiresInMs: number }
    expect(body.nonce).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(body.expiresInMs).toBe(30_000)
    await join(server, id(0))
    const peers = await fetch(`${server.url}/peerjs/peers`)
    expect(peers.status).toBe(401)
    expect(await peers.text()).not.toContain(id(0).id)
    expect((await fetch(`${server.url}/nothing-here`)).status).toBe(404)
  })
})

describe('signaling server: join and discovery', () => {
  it('welcomes with its own subnet peers only, the ICE servers and its limits', async () => {
    const iceServers = [{ urls: 'turn:turn.example.test:3478', username: 'u', credential: 'c' }]
    const server = await start({ iceServers, aliveTimeoutMs: 30_000, maxMessageBytes: 4096 })
    const a = await join(server, id(0), NET_A)
    expect(a.welcome.payload).toEqual({ id: id(0).id, net: NET_A, peers: [], iceServers, heartbeatMs: 10_000, maxMessageBytes: 4096 })
    await join(server, id(1), NET_B)
    const c = await join(server, id(2), NET_A)
    expect(c.welcome.payload).toMatchObject({ peers: [id(0).id] })
    expect(server.clients).toBe(3)
  })

  it('answers P2P-DISCOVER with a sample of the own subnet, numbered by seq', async () => {
    const server = await start({ discoveryLimit: 2 })
    const a = await join(server, id(0), NET_A)
    for (const i of [1, 2, 3]) await join(server, id(i), NET_A)
    await join(server, id(4), NET_B)
    a.client.send({ type: 'HEARTBEAT' })
    a.client.send({ type: 'P2P-DISCOVER' })
    const peers = await a.client.next()
    expect(peers.type).toBe('P2P-PEERS')
    const payload = peers.payload as { seq: number; peers: string[] }
    expect(payload.seq).toBe(2)
    expect(payload.peers).toHaveLength(2)
    for (const p of payload.peers) expect([id(1).id, id(2).id, id(3).id]).toContain(p)
  })

  it('relays OFFER/ANSWER/CANDIDATE both ways, stamping the true sender as src', async () => {
    const server = await start()
    const a = await join(server, id(0))
    const b = await join(server, id(1))
    const offer = { type: 'offer', sdp: 'v=0 a' }
    a.client.send({ type: 'OFFER', dst: id(1).id, src: id(5).id, payload: offer })
    expect(await b.client.next()).toEqual({ type: 'OFFER', src: id(0).id, dst: id(1).id, payload: offer })
    const answer = { type: 'answer', sdp: 'v=0 b' }
    b.client.send({ type: 'ANSWER', dst: id(0).id, payload: answer })
    expect(await a.client.next()).toEqual({ type: 'ANSWER', src: id(1).id, dst: id(0).id, payload: answer })
    const candidate = { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMLineIndex: 0, sdpMid: '0' } }
    b.client.send({ type: 'CANDIDATE', dst: id(0).id, payload: candidate })
    a.client.send({ type: 'CANDIDATE', dst: id(1).id, payload: { type: 'renegotiate', renegotiate: true } })
    expect(await a.client.next()).toMatchObject({ type: 'CANDIDATE', src: id(1).id, payload: candidate })
    expect(await b.client.next()).toMatchObject({ type: 'CANDIDATE', src: id(0).id, payload: { type: 'renegotiate' } })
  })

  it('frees an id when its socket closes', async () => {
    const server = await start()
    const a = await join(server, id(0))
    const b = await join(server, id(1))
    await a.client.close()
    // Closed on our side first; the server notices in its own time: poll with discovery round trips.
    while ((await discover(b.client)).includes(id(0).id));
    expect(server.clients).toBe(1)
  })

  it("a takeover counts as a sign of life: the new session is not expired for the old one's silence", async () => {
    // PeerJS expires by the wall clock (new Date()); only Date is faked, its timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const server = await start({ aliveTimeoutMs: 60_000 })
      // None of these raw clients sends HEARTBEAT.
      const canary = await join(server, id(1))
      const old = await join(server, id(0))
      vi.setSystemTime(Date.now() + 59_000)
      await join(server, id(0))
      expect((await old.client.closed).code).toBe(CLOSE_REPLACED)
      const observer = await join(server, id(2))
      vi.setSystemTime(Date.now() + 2_000)
      // PeerJS's next check drops the canary (61 s silent); id(0) re-registered 2 s ago.
      await canary.client.closed
      expect(await discover(observer.client)).toEqual([id(0).id])
      expect(server.clients).toBe(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('drops a client that sends no HEARTBEAT within aliveTimeoutMs, and frees its id', async () => {
    const server = await start({ aliveTimeoutMs: 150 })
    const a = await join(server, id(0))
    await a.client.closed
    expect(server.clients).toBe(0)
    await join(server, id(0))
  })
})

async function discover(client: RawClient): Promise<string[]> {
  client.send({ type: 'P2P-DISCOVER' })
  return ((await client.nextOfType('P2P-PEERS')).payload as { peers: string[] }).peers
}

describe('signaling server: close()', () => {
  it('ends every client with 1001, is idempotent, and stops answering', async () => {
    const server = await start()
    const a = await join(server, id(0))
    const b = await join(server, id(1), NET_B)
    const first = server.close()
    expect(server.close()).toBe(first)
    await first
    expect((await a.client.closed).code).toBe(1001)
    expect((await b.client.closed).code).toBe(1001)
    await expect(fetch(`${server.url}/p2p/challenge`)).rejects.toThrow()
  })
})
