import { afterEach, describe, expect, it, vi } from 'vitest'
import { P2PError, TransportError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import { runTransportContract } from '../testing/transport-contract.js'
import { MemoryHub, createMemoryLinkPair } from './memory.js'
import type { Link, LinkEvents } from './types.js'

const MiB = 1024 * 1024

runTransportContract(
  'memory pair (1 MiB buffer, 12 MiB cap)',
  async () => {
    const [a, b] = createMemoryLinkPair({ highWaterMark: MiB, maxMessageBytes: 12 * MiB })
    return { a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) }
  },
  { maxMessageBytes: 12 * MiB, maxBufferedAfterSend: MiB + 256 * 1024 },
)

runTransportContract(
  'memory transport (defaults)',
  async () => {
    const hub = new MemoryHub()
    const [ta, tb] = [hub.transport('a'), hub.transport('b')]
    const incoming = new Promise<Link>((resolve) => tb.on('link', resolve))
    const a = await ta.dial('b')
    const b = await incoming
    return { a, b, cleanup: async () => void (await Promise.all([ta.close(), tb.close()])) }
  },
  { maxMessageBytes: 64 * MiB, maxBufferedAfterSend: 16 * MiB + 256 * 1024 },
)

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'resolved' | 'not a P2PError'> {
  return promise.then(
    () => 'resolved' as const,
    (err: unknown) => (err instanceof P2PError ? err.code : 'not a P2PError'),
  )
}

function record(link: Link): { messages: Uint8Array[]; closes: LinkEvents['close'][0][] } {
  const log = { messages: [] as Uint8Array[], closes: [] as LinkEvents['close'][0][] }
  link.on('message', (data) => log.messages.push(data))
  link.on('close', (reason) => log.closes.push(reason))
  return log
}

describe('createMemoryLinkPair', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('delivers on a microtask: not synchronously, and with every timer frozen', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'setImmediate', 'Date'] })
    const [a, b] = createMemoryLinkPair({ peerIds: ['A', 'B'] })
    const got = record(b)
    void a.send(Uint8Array.of(1, 2, 3))
    expect(got.messages).toEqual([])
    await flushMicrotasks()
    expect(got.messages).toEqual([Uint8Array.of(1, 2, 3)])
    expect([a.remoteId, b.remoteId]).toEqual(['B', 'A'])
    await a.close()
    expect(got.closes).toHaveLength(1)
  })

  it('send() waits while the buffer is over its high-water mark, in order', async () => {
    const [a, b] = createMemoryLinkPair({ highWaterMark: 1000 })
    const got = record(b)
    const resolved: number[] = []
    const sends = [600, 600, 300].map((size, k) => a.send(new Uint8Array(size).fill(k)).then(() => resolved.push(k)))
    // 600 + 600 > 1000: the second waits, and the third (which would fit) waits behind it
    expect(a.bufferedAmount).toBe(600)
    await Promise.all(sends)
    expect(resolved).toEqual([0, 1, 2])
    await flushMicrotasks()
    expect(got.messages.map((m) => [m.length, m[0]])).toEqual([
      [600, 0],
      [600, 1],
      [300, 2],
    ])
    expect(a.bufferedAmount).toBe(0)
  })

  it('an urgent send skips the wait for buffer space, and stays behind what was accepted', async () => {
    const [a, b] = createMemoryLinkPair({ highWaterMark: 100 })
    const got = record(b)
    const sends = [a.send(new Uint8Array(90).fill(1)), a.send(new Uint8Array(90).fill(2))]
    const urgent = a.send(Uint8Array.of(3), { urgent: true })
    expect(a.bufferedAmount).toBe(91) // the second (not urgent) still waits
    await Promise.all([...sends, urgent])
    await flushMicrotasks()
    expect(got.messages.map((m) => m[0])).toEqual([1, 3, 2])
  })

  it('accepts a message larger than the mark once the buffer is empty', async () => {
    const [a, b] = createMemoryLinkPair({ highWaterMark: 10 })
    const got = record(b)
    const sent = a.send(new Uint8Array(100))
    expect(a.bufferedAmount).toBe(100)
    await sent
    await flushMicrotasks()
    expect(got.messages).toHaveLength(1)
  })

  it('caps messages at maxMessageBytes exactly', async () => {
    const [a] = createMemoryLinkPair({ maxMessageBytes: 100 })
    expect(await codeOf(a.send(new Uint8Array(100)))).toBe('resolved')
    expect(await codeOf(a.send(new Uint8Array(101)))).toBe('MESSAGE_TOO_LARGE')
    expect(a.state).toBe('open')
  })

  it('close(): accepted messages still arrive, waiting sends reject, then the peer sees LINK_CLOSED', async () => {
    const [a, b] = createMemoryLinkPair({ highWaterMark: 10 })
    const got = record(b)
    const sent = [a.send(new Uint8Array(8)), a.send(new Uint8Array(8))]
    const closing = a.close()
    expect(a.state).toBe('closed')
    expect(b.state).toBe('open') // not yet: the accepted message is still on its way
    expect(await codeOf(sent[0] as Promise<void>)).toBe('resolved')
    expect(await codeOf(sent[1] as Promise<void>)).toBe('LINK_CLOSED')
    await closing
    expect(got.messages).toHaveLength(1)
    expect(got.closes.map((r) => r?.code)).toEqual(['LINK_CLOSED'])
    expect(b.state).toBe('closed')
  })

  it('an aborted signal fails both ends with LINK_FAILED and loses what was queued', async () => {
    const controller = new AbortController()
    const [a, b] = createMemoryLinkPair({ highWaterMark: 10, signal: controller.signal })
    const [ga, gb] = [record(a), record(b)]
    const sent = [a.send(new Uint8Array(8)), a.send(new Uint8Array(8))]
    controller.abort('cable cut')
    expect(ga.closes.map((r) => r?.code)).toEqual(['LINK_FAILED'])
    expect(gb.closes.map((r) => r?.code)).toEqual(['LINK_FAILED'])
    expect(ga.closes[0]?.cause).toBe('cable cut')
    expect(await codeOf(sent[1] as Promise<void>)).toBe('LINK_CLOSED')
    await Promise.all([a.close(), b.close()])
    await flushMicrotasks()
    expect(gb.messages).toEqual([])
  })

  it('a P2PError abort reason is passed through; an already-aborted signal gives closed links', async () => {
    const reason = new TransportError('LINK_FAILED', 'injected')
    const [a, b] = createMemoryLinkPair({ signal: AbortSignal.abort(reason) })
    expect([a.state, b.state]).toEqual(['closed', 'closed'])
    expect(await codeOf(a.send(new Uint8Array(1)))).toBe('LINK_CLOSED')
    const controller = new AbortController()
    const [c] = createMemoryLinkPair({ signal: controller.signal })
    const closed = new Promise((resolve) => c.on('close', resolve))
    controller.abort(reason)
    expect(await closed).toBe(reason)
  })

  it('rejects invalid limits with INVALID_OPTION', () => {
    expect(() => createMemoryLinkPair({ highWaterMark: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
    expect(() => createMemoryLinkPair({ maxMessageBytes: Number.NaN })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
  })
})

describe('MemoryHub / MemoryTransport', () => {
  it('dial: the remote gets the other end first; ids line up; messages flow', async () => {
    const hub = new MemoryHub()
    const [ta, tb] = [hub.transport('a'), hub.transport('b')]
    const incoming: Link[] = []
    tb.on('link', (link) => incoming.push(link))
    const link = await ta.dial('b')
    expect(incoming).toHaveLength(1)
    const theirs = incoming[0] as Link
    expect([link.remoteId, theirs.remoteId]).toEqual(['b', 'a'])
    const got = record(theirs)
    await link.send(Uint8Array.of(7))
    await flushMicrotasks()
    expect(got.messages).toEqual([Uint8Array.of(7)])
    expect(hub.ids.sort()).toEqual(['a', 'b'])
    await Promise.all([ta.close(), tb.close()])
  })

  it('dial errors: unknown id, itself, aborted, after close', async () => {
    const hub = new MemoryHub()
    const ta = hub.transport('a')
    expect(await codeOf(ta.dial('nobody'))).toBe('PEER_UNREACHABLE')
    expect(await codeOf(ta.dial('a'))).toBe('DIAL_FAILED')
    hub.transport('b')
    expect(await codeOf(ta.dial('b', { signal: AbortSignal.abort() }))).toBe('DIAL_FAILED')
    await ta.close()
    expect(await codeOf(ta.dial('b'))).toBe('TRANSPORT_CLOSED')
  })

  it('ids are unique while registered, and free again after close', async () => {
    const hub = new MemoryHub()
    const first = hub.transport('a')
    expect(() => hub.transport('a')).toThrow(expect.objectContaining({ code: 'ID_TAKEN' }))
    await first.close()
    expect(hub.ids).toEqual([])
    const second = hub.transport('a')
    expect(second.localId).toBe('a')
    await second.close()
  })

  it('close(): idempotent, closes every link (the peers see close), and unregisters', async () => {
    const hub = new MemoryHub()
    const [ta, tb, tc] = [hub.transport('a'), hub.transport('b'), hub.transport('c')]
    const ab = await ta.dial('b')
    const remote: Link[] = []
    ta.on('link', (link) => remote.push(link))
    const ca = await tc.dial('a')
    const closes = [record(ab), record(ca)]
    await Promise.all([ta.close(), ta.close()])
    await ta.close()
    expect(closes.map((c) => c.closes.length)).toEqual([1, 1])
    expect(ca.state).toBe('closed')
    expect(remote[0]?.state).toBe('closed')
    expect(await codeOf(tb.dial('a'))).toBe('PEER_UNREACHABLE')
    await Promise.all([tb.close(), tc.close()])
  })
})
