import { describe, expect, it } from 'vitest'
import { P2PError } from '../errors.js'
import type { Link } from '../transport/types.js'
import { SimNetwork } from './sim-network.js'
import type { SimNetworkOptions, SimTransport } from './sim-network.js'

function net(options: Partial<SimNetworkOptions> = {}): SimNetwork {
  return new SimNetwork({ seed: 1, ...options })
}

/** Dials and drives the network until both ends exist: [dialer's end, dialed's end]. */
async function connect(sim: SimNetwork, from: SimTransport, to: SimTransport): Promise<[Link, Link]> {
  const ends: { mine?: Link; theirs?: Link } = {}
  const off = to.on('link', (link) => (ends.theirs = link))
  void from.dial(to.localId).then((link) => (ends.mine = link))
  expect(await sim.runUntil(() => ends.mine !== undefined && ends.theirs !== undefined)).toBe(true)
  off()
  return [ends.mine as Link, ends.theirs as Link]
}

function indexed(k: number): Uint8Array {
  return Uint8Array.of(k >> 8, k & 0xff)
}

function indexOf(data: Uint8Array): number {
  return ((data[0] ?? 0) << 8) | (data[1] ?? 0)
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof P2PError ? err.code : String(err)),
  )
}

/** Tracks a promise's settlement without awaiting it (the simulation must be driven meanwhile). */
function track(promise: Promise<unknown>): { state: string } {
  const t = { state: 'pending' }
  void outcome(promise).then((s) => (t.state = s))
  return t
}

describe('SimNetwork: delivery', () => {
  it('keeps per-link FIFO under random latency, and latency within its range', async () => {
    const sim = net({ latency: { min: 10, max: 40 } })
    const [a, b] = [sim.transport('a'), sim.transport('b')]
    const [ab, ba] = await connect(sim, a, b)
    const got: Array<[number, number]> = []
    ba.on('message', (data) => got.push([indexOf(data), sim.now()]))
    const sentAt = sim.now()
    for (let k = 0; k < 200; k++) void ab.send(indexed(k))
    expect(await sim.runUntilIdle()).toBe(true)
    expect(got.map(([k]) => k)).toEqual([...Array(200).keys()])
    expect(got[0]?.[1]).toBeGreaterThanOrEqual(sentAt + 10)
    expect(got[0]?.[1]).toBeLessThanOrEqual(sentAt + 40)
    expect(sim.stats).toMatchObject({ sent: 200, delivered: 200, dropped: 0, bytesSent: 400, bytesDelivered: 400 })
  })

  it('interleaves links at random: several senders to one receiver', async () => {
    const sim = net({ latency: { min: 0, max: 0 } })
    const hub = sim.transport('hub')
    const senders: Array<[Link, Link]> = []
    for (const id of ['x', 'y', 'z']) senders.push(await connect(sim, sim.transport(id), hub))
    const order: string[] = []
    for (const [, atHub] of senders) atHub.on('message', () => order.push(atHub.remoteId ?? '?'))
    for (const [link] of senders) for (let k = 0; k < 20; k++) void link.send(indexed(k))
    await sim.runUntilIdle()
    expect(order).toHaveLength(60)
    const runs = order.filter((id, i) => id !== order[i - 1]).length
    expect(runs).toBeGreaterThan(10) // not x×20, y×20, z×20
  })

  it('delivers in virtual time: each message one latency after its send', async () => {
    const sim = net({ latency: { min: 10, max: 10 } })
    const [a, b, c] = ['a', 'b', 'c'].map((id) => sim.transport(id)) as [SimTransport, SimTransport, SimTransport]
    const [ab, ba] = await connect(sim, a, b)
    const [cb, bc] = await connect(sim, c, b)
    const arrivals: Array<[string, number]> = []
    ba.on('message', () => arrivals.push(['a', sim.now()]))
    bc.on('message', () => arrivals.push(['c', sim.now()]))
    const t0 = sim.now()
    sim.clock.setTimeout(() => void cb.send(Uint8Array.of(2)), 5)
    sim.clock.setTimeout(() => void ab.send(Uint8Array.of(1)), 0)
    expect(await sim.runUntilIdle()).toBe(true)
    expect(arrivals).toEqual([
      ['a', t0 + 10],
      ['c', t0 + 15],
    ])
  })

  it('backpressure: send() waits for deliveries to drain the buffer', async () => {
    const sim = net({ latency: { min: 10, max: 10 }, highWaterMark: 100 })
    const [ab] = await connect(sim, sim.transport('a'), sim.transport('b'))
    const first = track(ab.send(new Uint8Array(80)))
    const second = track(ab.send(new Uint8Array(80)))
    await sim.runUntil(() => first.state !== 'pending')
    expect([first.state, second.state, ab.bufferedAmount]).toEqual(['resolved', 'pending', 80])
    const t0 = sim.now()
    await sim.runUntil(() => second.state !== 'pending')
    expect(second.state).toBe('resolved')
    expect(sim.now()).toBe(t0 + 10) // accepted when the first was delivered
  })
})

describe('SimNetwork: faults', () => {
  it('drop: loses about dropRate of the messages, keeps the survivors in order', async () => {
    const sim = net({ dropRate: 0.3 })
    const [ab, ba] = await connect(sim, sim.transport('a'), sim.transport('b'))
    const got: number[] = []
    ba.on('message', (data) => got.push(indexOf(data)))
    for (let k = 0; k < 1000; k++) void ab.send(indexed(k))
    await sim.runUntilIdle()
    const { sent, delivered, dropped } = sim.stats
    expect([sent, delivered + dropped]).toEqual([1000, 1000])
    expect(dropped).toBeGreaterThan(200)
    expect(dropped).toBeLessThan(400)
    expect(got).toEqual([...got].sort((x, y) => x - y))
    expect(ab.bufferedAmount).toBe(0)
  })

  it('partition shorter than failure detection: messages are held, then delivered in order on heal', async () => {
    const sim = net({ failureDetectionMs: 5000 })
    const [ab, ba] = await connect(sim, sim.transport('a'), sim.transport('b'))
    const got: number[] = []
    ba.on('message', (data) => got.push(indexOf(data)))
    sim.partition(['a'], ['b'])
    for (let k = 0; k < 10; k++) void ab.send(indexed(k))
    expect(await sim.runFor(4000)).toBe(true)
    expect(got).toEqual([])
    sim.heal()
    expect(await sim.runUntilIdle()).toBe(true)
    expect(got).toEqual([...Array(10).keys()])
    expect([ab.state, ba.state]).toEqual(['open', 'open'])
  })

  it('partition past failure detection: both ends fail with LINK_FAILED; dials across time out until heal', async () => {
    const sim = net({ failureDetectionMs: 1000, dialTimeoutMs: 3000 })
    const [a, b, c] = ['a', 'b', 'c'].map((id) => sim.transport(id)) as [SimTransport, SimTransport, SimTransport]
    const [ab, ba] = await connect(sim, a, b)
    const [ac, ca] = await connect(sim, a, c)
    const reasons: Array<string | undefined> = []
    for (const link of [ab, ba]) link.on('close', (reason) => reasons.push(reason?.code))
    sim.partition(['a', 'c'], ['b'])
    void ab.send(Uint8Array.of(1))
    const t0 = sim.now()
    await sim.runUntil(() => reasons.length === 2)
    expect(reasons).toEqual(['LINK_FAILED', 'LINK_FAILED'])
    expect(sim.now()).toBe(t0 + 1000)
    expect(sim.stats.dropped).toBe(1)
    expect([ac.state, ca.state]).toEqual(['open', 'open']) // same side of the cut
    const dial = track(c.dial('b'))
    await sim.runUntil(() => dial.state !== 'pending')
    expect(dial.state).toBe('DIAL_TIMEOUT')
    sim.heal()
    const [cb] = await connect(sim, c, b)
    expect(cb.state).toBe('open')
  })

  it('kill: far ends fail after the detection delay; nothing more leaves or reaches the dead node', async () => {
    const sim = net({ latency: { min: 10, max: 10 }, failureDetectionMs: 500, dialTimeoutMs: 2000 })
    const [a, b, c] = ['a', 'b', 'c'].map((id) => sim.transport(id)) as [SimTransport, SimTransport, SimTransport]
    const [ab, ba] = await connect(sim, a, b)
    const [ca, ac] = await connect(sim, c, a)
    const events: string[] = []
    ba.on('message', () => events.push('b got message'))
    ba.on('close', (reason) => events.push(`b close ${reason?.code} at ${sim.now() - t0}`))
    ca.on('close', (reason) => events.push(`c close ${reason?.code} at ${sim.now() - t0}`))
    ab.on('close', () => events.push('dead end saw close'))
    ac.on('message', () => events.push('dead node got message'))
    a.clock.setTimeout(() => events.push('dead timer fired'), 100)
    void ab.send(Uint8Array.of(1)) // in flight when a dies
    const t0 = sim.now()
    sim.kill('a')
    expect(sim.isAlive('a')).toBe(false)
    void ca.send(Uint8Array.of(2))
    expect(await outcome(ab.send(Uint8Array.of(3)))).toBe('resolved') // accepted and lost
    await sim.runUntilIdle()
    expect(events).toEqual(['b close LINK_FAILED at 500', 'c close LINK_FAILED at 500'])
    expect(ab.state).toBe('open') // the dead node observes nothing
    expect(sim.stats.delivered).toBe(0)
    const dial = track(b.dial('a'))
    await sim.runUntil(() => dial.state !== 'pending')
    expect(dial.state).toBe('DIAL_TIMEOUT')
    const deadDial = track(a.dial('b'))
    expect(await sim.runUntilIdle()).toBe(true)
    expect(deadDial.state).toBe('pending') // a dead node's dials never settle
    const restarted = sim.transport('a') // a restart is a new node
    const [ba2] = await connect(sim, b, restarted)
    expect(ba2.state).toBe('open')
  })
})

describe('SimNetwork: transports', () => {
  it('dial errors: unknown id, self, aborted, closed; ID_TAKEN for a live id', async () => {
    const sim = net()
    const a = sim.transport('a')
    sim.transport('b')
    expect(() => sim.transport('a')).toThrow(expect.objectContaining({ code: 'ID_TAKEN' }))
    const unknown = track(a.dial('nobody'))
    const controller = new AbortController()
    const aborted = track(a.dial('b', { signal: controller.signal }))
    controller.abort()
    await sim.runUntilIdle()
    expect([unknown.state, aborted.state]).toEqual(['PEER_UNREACHABLE', 'DIAL_FAILED'])
    expect(await outcome(a.dial('a'))).toBe('DIAL_FAILED')
    expect(sim.stats.sent).toBe(0)
    await a.close()
    expect(await outcome(a.dial('b'))).toBe('TRANSPORT_CLOSED')
  })

  it('close(): idempotent, peers see LINK_CLOSED after what was sent, the id is unregistered', async () => {
    const sim = net()
    const [a, b] = [sim.transport('a'), sim.transport('b')]
    const [ab, ba] = await connect(sim, a, b)
    const seen: string[] = []
    ba.on('message', () => seen.push('message'))
    ba.on('close', (reason) => seen.push(`close ${reason?.code}`))
    void ab.send(Uint8Array.of(1))
    await Promise.all([a.close(), a.close()])
    expect(ab.state).toBe('closed')
    await sim.runUntilIdle()
    expect(seen).toEqual(['message', 'close LINK_CLOSED'])
    const dial = track(b.dial('a'))
    await sim.runUntilIdle()
    expect(dial.state).toBe('PEER_UNREACHABLE')
  })
})

describe('SimNetwork: clock and run controls', () => {
  it('virtual timers: due order, FIFO when due together, clearTimeout, runFor', async () => {
    const sim = net({ startTime: 1000 })
    const fired: string[] = []
    sim.clock.setTimeout(() => fired.push(`late@${sim.now()}`), 50)
    for (const name of ['x', 'y', 'z']) sim.clock.setTimeout(() => fired.push(`${name}@${sim.now()}`), 20)
    const cancelled = sim.clock.setTimeout(() => fired.push('cancelled'), 10)
    sim.clock.clearTimeout(cancelled)
    sim.clock.clearTimeout(undefined)
    expect(await sim.runFor(30)).toBe(true)
    expect(fired).toEqual(['x@1020', 'y@1020', 'z@1020'])
    expect(sim.now()).toBe(1030)
    await sim.runUntilIdle()
    expect(fired.at(-1)).toBe('late@1050')
  })

  it('runUntil: true when the predicate holds, false when idle or out of steps', async () => {
    const sim = net()
    let ticks = 0
    const tick = (): void => {
      ticks++
      sim.clock.setTimeout(tick, 100)
    }
    tick()
    expect(await sim.runUntil(() => ticks === 5)).toBe(true)
    expect(sim.now()).toBe(400)
    expect(await sim.runUntilIdle(50)).toBe(false) // a periodic timer never idles
    expect(await net().runUntil(() => false)).toBe(false)
    expect(await net().step()).toBe(false)
  })

  it('lets microtasks settle between events, so async handlers keep up', async () => {
    const sim = net({ latency: { min: 1, max: 1 } })
    const [ab, ba] = await connect(sim, sim.transport('a'), sim.transport('b'))
    const got: number[] = []
    ba.on('message', async (data) => {
      await Promise.resolve()
      await ba.send(data) // echo after an await
    })
    ab.on('message', (data) => got.push(indexOf(data)))
    await ab.send(indexed(1))
    expect(await sim.runUntil(() => got.length === 1)).toBe(true)
  })

  it('one driver at a time', async () => {
    const sim = net()
    sim.clock.setTimeout(() => {}, 10)
    const first = sim.runUntilIdle()
    await expect(sim.runUntilIdle()).rejects.toThrow('already driving')
    expect(() => sim.autoRun()).toThrow('already driving')
    expect(await first).toBe(true)
    const stop = sim.autoRun()
    await expect(sim.step()).rejects.toThrow('already driving')
    stop()
  })

  it('autoRun drives the network from the real event loop until stopped', async () => {
    const sim = net()
    const stop = sim.autoRun()
    const fired = await new Promise<number>((resolve) => sim.clock.setTimeout(() => resolve(sim.now()), 1000))
    expect(fired).toBe(1000)
    stop()
    const [ab, ba] = await connect(sim, sim.transport('a'), sim.transport('b')) // explicit driving works again
    expect([ab.state, ba.state]).toEqual(['open', 'open'])
  })

  it('a listener or timer that throws makes the run reject', async () => {
    const sim = net()
    sim.clock.setTimeout(() => {
      throw new Error('boom')
    }, 1)
    await expect(sim.runUntilIdle()).rejects.toThrow('boom')
    const [ab, ba] = await connect(sim, sim.transport('a'), sim.transport('b'))
    ba.on('message', () => {
      throw new Error('bad handler')
    })
    void ab.send(Uint8Array.of(1))
    await expect(sim.runUntilIdle()).rejects.toThrow('bad handler')
  })

  it('a killed node`s clock stops; the global clock does not', async () => {
    const sim = net()
    const a = sim.transport('a')
    const fired: string[] = []
    a.clock.setTimeout(() => fired.push('node'), 10)
    sim.clock.setTimeout(() => fired.push('global'), 10)
    sim.kill('a')
    a.clock.setTimeout(() => fired.push('after death'), 1)
    await sim.runUntilIdle()
    expect(fired).toEqual(['global'])
  })
})

describe('SimNetwork: kill and partition together', () => {
  it('a partition timing out never wakes a dead node', async () => {
    const sim = net({ failureDetectionMs: 100 })
    const [ab, ba] = await connect(sim, sim.transport('a'), sim.transport('b'))
    const seen: string[] = []
    ab.on('close', () => seen.push('dead end closed'))
    ba.on('close', (reason) => seen.push(`b ${reason?.code}`))
    sim.kill('a')
    sim.partition(['a'], ['b'])
    await sim.runUntilIdle()
    expect(seen).toEqual(['b LINK_FAILED'])
    expect(ab.state).toBe('open')
  })
})
