import { createServer } from 'node:http'
import { serveFake } from '../../testing/fake-signaling.js'
import { nextClientEvent } from '../../testing/client-events.js'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { startSignalingServer, type SignalingServer } from '../../../signaling/server.js'
import { hasCode } from '../../errors.js'
import { systemClock, type Clock } from '../../util/clock.js'
import { Identity } from '../../wire/identity.js'
import { protocolId } from '../../wire/ids.js'
import { SignalingClient, type SignalingClientOptions } from './signaling-client.js'

/**
 * Reconnecting: against the real server restarted on the same port, and against a scripted
 * fake that closes and refuses on cue. Backoff delays are tiny; tests wait on events.
 */
const NET = protocolId('reconnect-test', 'webrtc')
const FAST = { baseMs: 20, maxMs: 200 }

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((fn) => fn()))
})

async function connect(options: Partial<SignalingClientOptions> & { url: string }): Promise<SignalingClient> {
  const client = await SignalingClient.connect({ identity: await Identity.generate(), net: NET, WebSocket, reconnect: FAST, ...options })
  cleanup.push(() => client.close())
  return client
}

const next = nextClientEvent

/** The client's offline/online/close events, in order, as names. */
function eventLog(client: SignalingClient): string[] {
  const log: string[] = []
  client.on('offline', (reason) => log.push(`offline ${reason.code}`))
  client.on('online', () => log.push('online'))
  client.on('close', (reason) => log.push(`close ${reason?.code ?? 'local'}`))
  return log
}

async function server(port = 0): Promise<SignalingServer> {
  const s = await startSignalingServer({ port })
  cleanup.push(() => s.close())
  return s
}

describe('SignalingClient reconnects to the real server', () => {
  it('after a restart on the same port: offline, then online with the same id; discover works, and others discover it', async () => {
    const first = await server()
    const identity = await Identity.generate()
    const a = await connect({ url: first.url, identity })
    const log = eventLog(a)
    const offline = next(a, 'offline')
    await first.close()
    const [reason] = await offline
    expect(reason.code).toBe('SIGNALING_CLOSED')
    expect(a.state).toBe('reconnecting')
    // While the server is away: signals are dropped without throwing, discover waits.
    const stranger = (await Identity.generate()).id
    expect(() => a.sendSignal(stranger, { type: 'offer', sdp: '' })).not.toThrow()
    const waiting = a.discover()

    const online = next(a, 'online')
    const second = await server(first.port)
    await online
    expect(a.state).toBe('open')
    expect(a.localId).toBe(identity.id)
    expect(await waiting).toEqual([])
    expect(log).toEqual(['offline SIGNALING_CLOSED', 'online'])

    const b = await connect({ url: second.url })
    expect(b.peers).toEqual([identity.id])
    expect(await b.discover()).toEqual([identity.id])
    expect(await a.discover()).toEqual([b.localId])
    const got = next(a, 'signal')
    b.sendSignal(identity.id, { type: 'offer', sdp: 'after the restart' })
    expect(await got).toEqual([b.localId, { type: 'offer', sdp: 'after the restart' }])
    expect(second.clients).toBe(2)
  })

  it('close() while reconnecting stops it: close event (undefined), no online, discover and sendSignal refuse', async () => {
    const first = await server()
    const a = await connect({ url: first.url })
    const log = eventLog(a)
    const offline = next(a, 'offline')
    const waiting = a.discover()
    await first.close()
    await offline
    await a.close()
    expect(a.state).toBe('closed')
    expect(log).toEqual(['offline SIGNALING_CLOSED', 'close local'])
    await expectCode(waiting, 'SIGNALING_CLOSED')
    expect(() => a.sendSignal(a.localId, { type: 'offer', sdp: '' })).toThrow(expect.objectContaining({ code: 'SIGNALING_CLOSED' }))
    // A server back on the port sees nobody register.
    const second = await server(first.port)
    const b = await connect({ url: second.url })
    expect(await b.discover()).toEqual([])
  })

  it('close() is final: no reconnect, the server lets the id go', async () => {
    const s = await server()
    const a = await connect({ url: s.url })
    const b = await connect({ url: s.url })
    const log = eventLog(a)
    await a.close()
    expect(log).toEqual(['close local'])
    while ((await b.discover()).includes(a.localId));
    expect(s.clients).toBe(1)
  })
})

/** A fake server: each WebSocket connection (0, 1, 2, …) is handed to `script`. */
async function scripted(script: (n: number, socket: WebSocket, url: URL) => void): Promise<{ url: string; connections: () => number }> {
  let n = 0
  const http = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ nonce: 'A'.repeat(54), expiresInMs: 30_000 }))
  })
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (socket, req) => script(n++, socket, new URL(req.url ?? '/', 'http://fake')))
  const { url, close } = await serveFake(http, wss)
  cleanup.push(close)
  return { url, connections: () => n }
}

function welcome(socket: WebSocket, url: URL, heartbeatMs = 60_000): void {
  socket.send(JSON.stringify({ type: 'OPEN' }))
  const payload = { id: url.searchParams.get('id'), net: url.searchParams.get('net'), peers: [], iceServers: [], heartbeatMs, maxMessageBytes: 65_536 }
  socket.send(JSON.stringify({ type: 'P2P-WELCOME', payload }))
}

function refuse(socket: WebSocket, reason: string, code: number): void {
  socket.send(JSON.stringify({ type: reason === 'ID_TAKEN' ? 'ID-TAKEN' : 'ERROR', payload: { msg: 'no', reason } }))
  socket.close(code, reason)
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected ${code}`).toSatisfy((e: unknown) => hasCode(e, code as never))
}

interface Dropping {
  url: string
  connections: () => number
  /** Ends the first connection `how`. */
  drop: (how: (s: WebSocket) => void) => void
}

/**
 * A fake whose first connection is welcomed and then dropped by the test, and whose later
 * connections (reconnect attempts 1, 2, …) follow `attempt`.
 */
async function dropping(attempt: (n: number, socket: WebSocket, url: URL) => void): Promise<Dropping> {
  let first: WebSocket | undefined
  const fake = await scripted((n, socket, url) => {
    if (n > 0) return attempt(n, socket, url)
    first = socket
    welcome(socket, url)
  })
  return { ...fake, drop: (how) => how(first!) }
}

describe('which drops and refusals SignalingClient retries', () => {
  it.each([
    ['1001 going away', (s: WebSocket) => s.close(1001)],
    ['1006 (the connection is cut)', (s: WebSocket) => s.terminate()],
    ['4429 rate limited', (s: WebSocket) => s.close(4429, 'RATE_LIMITED')],
    ['1009 message too big', (s: WebSocket) => s.close(1009)],
    ['4503 server full', (s: WebSocket) => s.close(4503, 'SERVER_FULL')],
  ])('retries after %s, once open', async (_name, how) => {
    const fake = await dropping((_n, socket, url) => welcome(socket, url))
    const a = await connect({ url: fake.url })
    const log = eventLog(a)
    const online = next(a, 'online')
    fake.drop(how)
    await online
    expect(log).toHaveLength(2)
    expect(log[0]).toMatch(/^offline /)
    expect(log[1]).toBe('online')
    expect(a.state).toBe('open')
    expect(fake.connections()).toBe(2)
  })

  it.each([
    ['STALE_NONCE', 4410],
    ['RATE_LIMITED', 4429],
    ['SERVER_FULL', 4503],
    ['INVALID_MESSAGE', 4422],
  ])('keeps retrying through %s refusals of its attempts', async (reason, code) => {
    const fake = await dropping((n, socket, url) => (n <= 2 ? refuse(socket, reason, code) : welcome(socket, url)))
    const a = await connect({ url: fake.url })
    const log = eventLog(a)
    const online = next(a, 'online')
    fake.drop((s) => s.close(1001))
    await online
    expect(log).toEqual(['offline SIGNALING_CLOSED', 'online'])
    expect(fake.connections()).toBe(4)
  })

  it('keeps retrying through a welcome that is malformed or for another id', async () => {
    const fake = await dropping((n, socket, url) => {
      if (n === 1) socket.send('{"type":')
      else if (n === 2) welcome(socket, new URL(`http://fake/?id=${protocolId('someone else', 'webrtc')}&net=${NET}`))
      else welcome(socket, url)
    })
    const a = await connect({ url: fake.url })
    const online = next(a, 'online')
    fake.drop((s) => s.close(1001))
    await online
    expect(fake.connections()).toBe(4)
  })

  it.each([
    ['ID_TAKEN', 4409, 'ID_TAKEN'],
    ['BAD_SIGNATURE', 4401, 'AUTH_FAILED'],
    ['ID_MISMATCH', 4403, 'AUTH_FAILED'],
    ['BAD_REQUEST', 4400, 'SIGNALING_REFUSED'],
  ])('stops at a %s refusal of an attempt: close with %i → %s, no further attempt', async (reason, code, expected) => {
    const fake = await dropping((_n, socket) => refuse(socket, reason, code))
    const a = await connect({ url: fake.url })
    const log = eventLog(a)
    const closed = next(a, 'close')
    fake.drop((s) => s.close(1001))
    const [err] = await closed
    expect(err?.code).toBe(expected)
    expect(a.state).toBe('closed')
    expect(log).toEqual(['offline SIGNALING_CLOSED', `close ${expected}`])
    expect(fake.connections()).toBe(2)
    await expectCode(a.discover(), 'SIGNALING_CLOSED')
  })

  it.each([
    ['REPLACED', 4301, 'SIGNALING_CLOSED'],
    ['BAD_SIGNATURE', 4401, 'AUTH_FAILED'],
  ])('stops when an open session is closed with %s (%i): close (%s), never offline', async (_name, code, expected) => {
    const fake = await dropping((_n, socket, url) => welcome(socket, url))
    const a = await connect({ url: fake.url })
    const log = eventLog(a)
    const closed = next(a, 'close')
    fake.drop((s) => s.close(code))
    expect((await closed)[0]?.code).toBe(expected)
    expect(log).toEqual([`close ${expected}`])
    expect(fake.connections()).toBe(1)
  })

  it('a discover in flight when the connection drops is asked again on the new session', async () => {
    const peer = protocolId('a peer', 'webrtc')
    const fake = await dropping((_n, socket, url) => {
      welcome(socket, url)
      socket.on('message', (data) => {
        if (data.toString() !== '{"type":"P2P-DISCOVER"}') return
        socket.send(JSON.stringify({ type: 'P2P-PEERS', payload: { seq: 1, peers: [peer] } }))
      })
    })
    const a = await connect({ url: fake.url })
    const pending = a.discover() // sent on the first connection, which never answers
    fake.drop((s) => s.close(1001))
    expect(await pending).toEqual([peer])
    expect(a.peers).toEqual([peer])
    expect(fake.connections()).toBe(2)
  })

  it('with reconnect: false, a drop closes the client', async () => {
    const fake = await dropping((_n, socket, url) => welcome(socket, url))
    const a = await connect({ url: fake.url, reconnect: false })
    const log = eventLog(a)
    const closed = next(a, 'close')
    fake.drop((s) => s.close(1001))
    await closed
    expect(log).toEqual(['close SIGNALING_CLOSED'])
    expect(fake.connections()).toBe(1)
  })

  it('refuses a reconnect policy that makes no sense (INVALID_OPTION), before connecting', async () => {
    const fake = await scripted((_n, socket, url) => welcome(socket, url))
    await expectCode(connect({ url: fake.url, reconnect: { baseMs: 1000, maxMs: 10 } }), 'INVALID_OPTION')
    await expectCode(connect({ url: fake.url, reconnect: { jitter: 2 } }), 'INVALID_OPTION')
    expect(fake.connections()).toBe(0)
  })
})

/** The host's timers, with a `now` the test can move (a host that slept) and a record of delays asked for. */
function skewedClock(): Clock & { skew: number; delays: number[] } {
  const clock = {
    skew: 0,
    delays: [] as number[],
    now: () => systemClock.now() + clock.skew,
    setTimeout: (fn: () => void, ms: number) => {
      clock.delays.push(ms)
      return systemClock.setTimeout(fn, ms)
    },
    clearTimeout: systemClock.clearTimeout,
  }
  return clock
}

describe('SignalingClient backoff and liveness', () => {
  it('grows the delay between failed attempts, and across sessions dropped right after their welcome', async () => {
    // Attempts 1, 2 are refused; 3 is welcomed and dropped at once; 4 is refused; 5 stays.
    const fake = await dropping((n, socket, url) => {
      if (n === 3) {
        welcome(socket, url)
        socket.close(1001)
      } else if (n === 5) welcome(socket, url)
      else refuse(socket, 'RATE_LIMITED', 4429)
    })
    const clock = skewedClock()
    const a = await connect({ url: fake.url, clock, random: () => 0, reconnect: { baseMs: 10, maxMs: 50, factor: 2 } })
    const log = eventLog(a)
    clock.delays.length = 0
    let onlines = 0
    const settled = new Promise<void>((resolve) =>
      a.on('online', () => {
        if (++onlines === 2) resolve()
      }),
    )
    fake.drop((s) => s.close(1001))
    await settled
    expect(log).toEqual(['offline SIGNALING_CLOSED', 'online', 'offline SIGNALING_CLOSED', 'online'])
    // Reconnect delays are the short ones (the others: 10 s registration and discover timeouts, 60 s heartbeats).
    expect(clock.delays.filter((ms) => ms <= 50)).toEqual([10, 20, 40, 50, 50])
  })

  it('a heartbeat long overdue (the host slept) drops the session and registers again', async () => {
    const fake = await scripted((_n, socket, url) => welcome(socket, url, 50))
    const clock = skewedClock()
    const a = await connect({ url: fake.url, clock })
    const offline = next(a, 'offline')
    const online = next(a, 'online')
    clock.skew += 3_600_000
    const [reason] = await offline
    expect(reason.code).toBe('SIGNALING_CLOSED')
    expect(reason.message).toContain('heartbeat')
    await online
    expect(fake.connections()).toBe(2)
  })
})
