import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startSignalingServer } from '../../../signaling/server.js'
import { Identity } from '../../wire/identity.js'
import { protocolId } from '../../wire/ids.js'
import { SignalingClient, type SignalingSocketConstructor } from '../signaling/signaling-client.js'
import { LocalSignalingHub } from '../../testing/local-signaler.js'
import { loopbackOnlyWrtc } from '../../testing/node-webrtc.js'
import { runTransportContract } from '../../testing/transport-contract.js'
import type { Link } from '../types.js'
import { WebRtcTransport, type WebRtcTransportOptions } from './webrtc-transport.js'

// Real WebRTC in Node (@roamhq/wrtc), inside the loopback-only namespace `npm test` makes.
const wrtc = loopbackOnlyWrtc()

function pairOfTransports(options: Partial<WebRtcTransportOptions> = {}) {
  const hub = new LocalSignalingHub()
  const sa = hub.signaler('alice')
  const sb = hub.signaler('bob')
  const a = new WebRtcTransport({ signaler: sa, wrtc, ...options })
  const b = new WebRtcTransport({ signaler: sb, wrtc, ...options })
  return { hub, a, b, close: async () => void (await Promise.all([a.close(), b.close()])) }
}

async function connect(options: Partial<WebRtcTransportOptions> = {}) {
  const t = pairOfTransports(options)
  const incoming = new Promise<Link>((resolve) => t.b.on('link', resolve))
  const a = await t.a.dial('bob')
  const b = await incoming
  return { ...t, linkA: a, linkB: b }
}

runTransportContract(
  'WebRTC (simple-peer + @roamhq/wrtc)',
  async () => {
    const c = await connect({ link: { maxMessageBytes: 16 * 1024 * 1024 } })
    return { a: c.linkA, b: c.linkB, cleanup: c.close }
  },
  { maxMessageBytes: 16 * 1024 * 1024, maxBufferedAfterSend: 4 * 1024 * 1024 + 10 * 1024 * 1024 },
)

describe('WebRtcTransport', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((f) => f()))
  })

  it('a dial to a node the signaling server does not know fails at once (PEER_UNREACHABLE), not at its timeout', async () => {
    const server = await startSignalingServer({ port: 0 })
    const client = await SignalingClient.connect({ url: server.url, identity: await Identity.generate(), net: protocolId('unknown', 'webrtc'), WebSocket: WebSocket as unknown as SignalingSocketConstructor })
    client.on('error', () => {}) // the refusal is also reported there
    const transport = new WebRtcTransport({ signaler: client, wrtc, dialTimeoutMs: 600_000 })
    cleanups.push(async () => {
      await transport.close()
      await client.close()
      await server.close()
    })
    const nobody = (await Identity.generate()).id
    await expect(transport.dial(nobody)).rejects.toMatchObject({ code: 'PEER_UNREACHABLE' })
  })

  it('never configures a STUN/TURN server unless told to', async () => {
    const t = pairOfTransports()
    cleanups.push(t.close)
    expect(t.a.rtcConfig).toEqual({ iceServers: [] })
    const custom = pairOfTransports({ iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' }] })
    cleanups.push(custom.close)
    expect(custom.a.rtcConfig.iceServers).toEqual([{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' }])
  })

  it('dials, knows the remote id on both ends, and counts peer connections', async () => {
    const c = await connect()
    cleanups.push(c.close)
    expect(c.linkA.remoteId).toBe('bob')
    expect(c.linkB.remoteId).toBe('alice')
    expect(c.linkA.state).toBe('open')
    expect(c.a.connectionsCreated).toBe(1)
    expect(c.b.connectionsCreated).toBe(1)
    expect(c.a.activeConnections).toBe(1)
    await c.linkA.close()
    expect(c.a.activeConnections).toBe(0)
  })

  it('messages sent as soon as dial() resolves reach the accepting side (simple-peer delivers before its connect)', async () => {
    for (let i = 0; i < 5; i++) {
      const t = pairOfTransports()
      cleanups.push(t.close)
      const got = new Promise<Uint8Array>((resolve) => t.b.on('link', (l) => l.on('message', resolve)))
      const link = await t.a.dial('bob')
      await link.send(new Uint8Array([42, i]))
      expect([...(await got)]).toEqual([42, i])
    }
  })

  it('a listener attached late still receives what arrived before it, in order', async () => {
    const c = await connect()
    cleanups.push(c.close)
    const echo = new Promise<void>((resolve) => c.linkA.on('message', () => resolve()))
    for (let i = 0; i < 3; i++) await c.linkA.send(new Uint8Array([i]))
    await c.linkA.send(new Uint8Array([9])) // b answers the last one, once it listens
    await new Promise<void>((resolve) => setImmediate(resolve))
    const got: number[] = []
    c.linkB.on('message', (m) => {
      got.push(m[0]!)
      if (m[0] === 9) void c.linkB.send(new Uint8Array([1]))
    })
    await echo
    expect(got).toEqual([0, 1, 2, 9])
  })

  it('two nodes dialling each other at once get two working links', async () => {
    const t = pairOfTransports()
    cleanups.push(t.close)
    const inA = new Promise<Link>((resolve) => t.a.on('link', resolve))
    const inB = new Promise<Link>((resolve) => t.b.on('link', resolve))
    const [ab, ba] = await Promise.all([t.a.dial('bob'), t.b.dial('alice')])
    const [fromB, fromA] = await Promise.all([inA, inB])
    const got = new Promise<Uint8Array>((resolve) => fromA.on('message', resolve))
    const got2 = new Promise<Uint8Array>((resolve) => fromB.on('message', resolve))
    await ab.send(new Uint8Array([1]))
    await ba.send(new Uint8Array([2]))
    expect([...(await got)]).toEqual([1])
    expect([...(await got2)]).toEqual([2])
  })

  it('urgent messages overtake a large message in progress; others keep FIFO order', async () => {
    const c = await connect()
    cleanups.push(c.close)
    const order: string[] = []
    const done = new Promise<void>((resolve) =>
      c.linkB.on('message', (m) => {
        order.push(m.byteLength > 1000 ? 'big' : String.fromCharCode(m[0]!))
        if (order.length === 3) resolve()
      }),
    )
    await c.linkA.send(new Uint8Array(4 * 1024 * 1024))
    await c.linkA.send(new Uint8Array(['f'.charCodeAt(0)]))
    await c.linkA.send(new Uint8Array(['u'.charCodeAt(0)]), { urgent: true })
    await done
    expect(order).toEqual(['u', 'big', 'f'])
  })

  it('a dial to nobody times out with DIAL_TIMEOUT and leaves nothing behind', async () => {
    const t = pairOfTransports({ dialTimeoutMs: 300 })
    cleanups.push(t.close)
    await expect(t.a.dial('nobody')).rejects.toMatchObject({ code: 'DIAL_TIMEOUT' })
    expect(t.a.activeConnections).toBe(0)
  })

  it('an aborted dial rejects with DIAL_FAILED', async () => {
    const t = pairOfTransports()
    cleanups.push(t.close)
    const ac = new AbortController()
    const dialing = t.a.dial('nobody', { signal: ac.signal })
    ac.abort()
    await expect(dialing).rejects.toMatchObject({ code: 'DIAL_FAILED' })
    await expect(t.a.dial('alice')).rejects.toMatchObject({ code: 'DIAL_FAILED' })
  })

  it('ignores malformed signals and caps concurrent incoming attempts', async () => {
    const hub = new LocalSignalingHub()
    const target = new WebRtcTransport({ signaler: hub.signaler('target'), wrtc, maxPendingIncoming: 2 })
    cleanups.push(() => target.close())
    const attacker = hub.signaler('attacker')
    for (const junk of [null, 5, 'x', { v: 2 }, { v: 1, s: '', d: {} }, { v: 1, s: 'a'.repeat(65), d: { type: 'offer' } }, { v: 1, s: 'q', d: { type: 'bogus' } }]) {
      attacker.sendSignal('target', junk)
    }
    // Offers that are not valid SDP: each attempt is dropped, the transport stays up.
    for (let i = 0; i < 5; i++) attacker.sendSignal('target', { v: 1, s: `s${i}`, d: { type: 'offer', sdp: 'garbage' } })
    const c = await connect()
    cleanups.push(c.close)
    expect(target.activeConnections).toBeLessThanOrEqual(2)
  })

  it('closing the transport closes its links; the peer sees LINK_CLOSED', async () => {
    const c = await connect()
    cleanups.push(c.close)
    const closed = new Promise<unknown>((resolve) => c.linkB.on('close', resolve))
    await c.a.close()
    expect(await closed).toMatchObject({ code: 'LINK_CLOSED' })
    await expect(c.a.dial('bob')).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' })
  })
})
