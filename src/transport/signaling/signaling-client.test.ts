import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { nextClientEvent } from '../../testing/client-events.js'
import { WebSocket } from 'ws'
import { startSignalingServer, type SignalingServer, type SignalingServerOptions } from '../../../signaling/server.js'
import { hasCode } from '../../errors.js'
import { Emitter, nextEvent } from '../../util/emitter.js'
import { Identity } from '../../wire/identity.js'
import { protocolId } from '../../wire/ids.js'
import { SignalingClient, type SignalingClientOptions } from './signaling-client.js'

const NET_A = protocolId('client-test-a', 'webrtc')
const NET_B = protocolId('client-test-b', 'webrtc')

let server: SignalingServer
const cleanup: (() => Promise<unknown>)[] = []
beforeAll(async () => {
  server = await startSignalingServer({ port: 0 })
  return () => server.close()
})
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((fn) => fn()))
})

async function start(options: SignalingServerOptions): Promise<SignalingServer> {
  const s = await startSignalingServer({ port: 0, ...options })
  cleanup.push(() => s.close())
  return s
}

async function connect(options: Partial<SignalingClientOptions> = {}): Promise<SignalingClient> {
  const client = await SignalingClient.connect({
    url: server.url,
    identity: await Identity.generate(),
    net: NET_A,
    WebSocket,
    ...options,
  })
  cleanup.push(() => client.close())
  return client
}

const next = nextClientEvent

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected ${code}`).toSatisfy((e: unknown) => hasCode(e, code as never))
}

describe('SignalingClient with the signaling server', () => {
  it('two clients of a subnet discover each other and exchange OFFER/ANSWER/CANDIDATE both ways', async () => {
    const a = await connect()
    const b = await connect()
    expect(a.peers).toEqual([])
    expect(b.peers).toEqual([a.localId])
    expect(await a.discover()).toEqual([b.localId])
    expect(a.peers).toEqual([b.localId])

    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' }
    const answer = { type: 'answer', sdp: 'v=0\r\n' }
    const candidate = { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMLineIndex: 0, sdpMid: '0' } }
    const renegotiate = { type: 'renegotiate', renegotiate: true }

    let got = next(b, 'signal')
    a.sendSignal(b.localId, offer)
    expect(await got).toEqual([a.localId, offer])
    got = next(a, 'signal')
    b.sendSignal(a.localId, answer)
    expect(await got).toEqual([b.localId, answer])
    got = next(a, 'signal')
    b.sendSignal(a.localId, candidate)
    expect(await got).toEqual([b.localId, candidate])
    got = next(b, 'signal')
    a.sendSignal(b.localId, renegotiate)
    expect(await got).toEqual([a.localId, renegotiate])
  })

  it("relays the WebRTC transport's envelopes ({ v, s, d }) intact", async () => {
    const a = await connect()
    const b = await connect()
    const envelopes = [
      { v: 1, s: 'c0ffee', d: { type: 'offer', sdp: 'v=0\r\n' } },
      { v: 1, s: 'c0ffee', d: { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMLineIndex: 0, sdpMid: '0' } } },
    ]
    for (const envelope of envelopes) {
      const got = next(b, 'signal')
      a.sendSignal(b.localId, envelope)
      expect(await got).toEqual([a.localId, envelope])
    }
  })

  it('keeps subnets apart: no discovery across them, and signals to them are refused', async () => {
    const a = await connect({ net: NET_A })
    const b = await connect({ net: NET_A })
    const x = await connect({ net: NET_B })
    expect(x.peers).toEqual([])
    expect(await x.discover()).toEqual([])
    expect(await a.discover()).not.toContain(x.localId)

    const refused = next(x, 'error')
    x.sendSignal(a.localId, { type: 'offer', sdp: 'from x' })
    const [err] = await refused
    expect(err.code).toBe('PEER_UNREACHABLE')
    // Had x's offer reached a, it would arrive before b's (sent after x's refusal).
    const got = next(a, 'signal')
    b.sendSignal(a.localId, { type: 'offer', sdp: 'from b' })
    expect(await got).toEqual([b.localId, { type: 'offer', sdp: 'from b' }])
  })

  it('reports PEER_UNREACHABLE for a peer that is not there', async () => {
    const a = await connect()
    const refused = next(a, 'error')
    a.sendSignal((await Identity.generate()).id, { type: 'offer', sdp: '' })
    expect((await refused)[0].code).toBe('PEER_UNREACHABLE')
  })

  it('hands out the operator ICE servers (none by default)', async () => {
    const iceServers = [{ urls: ['stun:stun.example.test:3478'] }, { urls: 'turn:turn.example.test', username: 'u', credential: 'c' }]
    const withIce = await start({ iceServers })
    const client = await connect({ url: withIce.url })
    expect(client.iceServers).toEqual(iceServers)
    expect((await connect()).iceServers).toEqual([])
  })

  it('a second registration of an id replaces the first (close: SIGNALING_CLOSED, REPLACED); signals reach the second', async () => {
    const identity = await Identity.generate()
    const first = await connect({ identity })
    const peer = await connect()
    const closed = next(first, 'close')
    const second = await connect({ identity })
    const offline = vi.fn()
    first.on('offline', offline)
    const [reason] = await closed
    expect(reason?.code).toBe('SIGNALING_CLOSED')
    expect(reason?.message).toContain('REPLACED')
    expect(first.state).toBe('closed')
    expect(offline).not.toHaveBeenCalled() // REPLACED is final: no reconnect (which would replace the second in turn)
    const got = next(second, 'signal')
    peer.sendSignal(identity.id, { type: 'offer', sdp: 'to the new session' })
    expect(await got).toEqual([peer.localId, { type: 'offer', sdp: 'to the new session' }])
    expect(await peer.discover()).toEqual([identity.id])
    expect(second.state).toBe('open')
  })

  it('refuses an id that is live in another subnet with ID_TAKEN', async () => {
    const identity = await Identity.generate()
    const live = await connect({ identity, net: NET_A })
    await expectCode(connect({ identity, net: NET_B }), 'ID_TAKEN')
    expect(live.state).toBe('open')
  })

  it('refuses an id claimed without its key with AUTH_FAILED', async () => {
    const victim = await Identity.generate()
    const mallory = await Identity.generate()
    const impostor = { id: victim.id, publicKey: victim.publicKey, sign: (data: Uint8Array) => mallory.sign(data) } as unknown as Identity
    await expectCode(connect({ identity: impostor }), 'AUTH_FAILED')
    const mismatched = { id: victim.id, publicKey: mallory.publicKey, sign: (data: Uint8Array) => mallory.sign(data) } as unknown as Identity
    await expectCode(connect({ identity: mismatched }), 'AUTH_FAILED')
    await connect({ identity: victim })
  })

  it('maps connection limits to RATE_LIMITED and SIGNALING_REFUSED', async () => {
    const perIp = await start({ maxClientsPerIp: 1 })
    await connect({ url: perIp.url })
    await expectCode(connect({ url: perIp.url }), 'RATE_LIMITED')
    const full = await start({ maxClients: 1 })
    await connect({ url: full.url })
    await expectCode(connect({ url: full.url }), 'SIGNALING_REFUSED')
    const slow = await start({ connectAttemptsPerMinute: 1 })
    await expectCode(connect({ url: slow.url }), 'RATE_LIMITED')
  })

  it('reports RATE_LIMITED when it sends too fast, and stays connected', async () => {
    const strict = await start({ messagesPerSecond: 1, messageBurst: 3 })
    const a = await connect({ url: strict.url })
    const b = await connect({ url: strict.url })
    const limited = next(a, 'error')
    for (let i = 0; i < 4; i++) a.sendSignal(b.localId, { type: 'candidate', candidate: { candidate: `c${i}` } })
    expect((await limited)[0].code).toBe('RATE_LIMITED')
    expect(a.state).toBe('open')
  })

  it('checks what it sends: destination, signal shape and size', async () => {
    const a = await connect()
    const b = await connect()
    expect(() => a.sendSignal('not an id!', { type: 'offer', sdp: '' })).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }))
    expect(() => a.sendSignal(b.localId, 'offer')).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }))
    const circular: Record<string, unknown> = { type: 'candidate' }
    circular.self = circular
    expect(() => a.sendSignal(b.localId, circular)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }))
    expect(() => a.sendSignal(b.localId, { type: 'offer', sdp: 'x'.repeat(70_000) })).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }),
    )
    // Still connected and usable.
    expect(await a.discover()).toEqual([b.localId])
  })

  it('sends HEARTBEATs so that the server keeps it', async () => {
    const short = await start({ aliveTimeoutMs: 300 })
    let heartbeats = 0
    const sent = new Emitter<{ heartbeat: [] }>()
    class CountingWebSocket extends WebSocket {
      override send(data: unknown): void {
        if (typeof data === 'string' && data.includes('"HEARTBEAT"')) {
          heartbeats++
          sent.emit('heartbeat')
        }
        super.send(data as string)
      }
    }
    const a = await connect({ url: short.url, WebSocket: CountingWebSocket })
    const closed = closedFlag(a)
    // Six heartbeats at aliveTimeoutMs/3 span twice the alive timeout.
    while (heartbeats < 6) await nextEvent(sent, 'heartbeat')
    expect(closed()).toBe(false)
    expect(await a.discover()).toEqual([])
    expect(short.clients).toBe(1)
  })
})

describe('SignalingClient lifecycle', () => {
  it('close() is idempotent and awaitable, emits close once, and then refuses to work', async () => {
    const a = await connect()
    const b = await connect()
    const reasons: unknown[] = []
    a.on('close', (reason) => reasons.push(reason))
    const first = a.close()
    expect(a.close()).toBe(first)
    await first
    await a.close()
    expect(reasons).toEqual([undefined])
    expect(a.state).toBe('closed')
    expect(() => a.sendSignal(b.localId, { type: 'offer', sdp: '' })).toThrow(expect.objectContaining({ code: 'SIGNALING_CLOSED' }))
    await expectCode(a.discover(), 'SIGNALING_CLOSED')
    // The server lets the id go: b stops seeing it (poll with discovery round trips).
    while ((await b.discover()).includes(a.localId));
  })

  it('without reconnect, ends clients with SIGNALING_CLOSED when the server closes, failing pending discovers', async () => {
    const doomed = await start({})
    const a = await connect({ url: doomed.url, reconnect: false })
    const closed = next(a, 'close')
    await doomed.close()
    const [reason] = await closed
    expect(reason?.code).toBe('SIGNALING_CLOSED')
    expect(a.state).toBe('closed')
    await expectCode(a.discover(), 'SIGNALING_CLOSED')
    await a.close()
  })

  it('fails to connect with SIGNALING_UNREACHABLE when nothing listens', async () => {
    const gone = await startSignalingServer({ port: 0 })
    await gone.close()
    await expectCode(connect({ url: gone.url }), 'SIGNALING_UNREACHABLE')
  })
})

/** A flag that turns true when `client` emits 'close'. */
function closedFlag(client: SignalingClient): () => boolean {
  let closed = false
  client.on('close', () => {
    closed = true
  })
  return () => closed
}
