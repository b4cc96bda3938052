import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { P2PError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import type { Link } from '../transport/types.js'
import { Prng } from './prng.js'

/**
 * The Link contract suite (automerge-repo adapter tests, libp2p interface-compliance-tests):
 * every Link implementation runs it. Tests wait on events and promises only, never on sleeps, and
 * have generous timeouts so real WebRTC can run it too.
 */

export interface LinkPairFixture {
  /** Two open links connected to each other. */
  a: Link
  b: Link
  /** Releases everything makePair made; must tolerate links already closed. */
  cleanup(): Promise<void>
}

export interface TransportContractOptions {
  /** Per test. Default 60 000 ms. */
  timeoutMs?: number
  /** The links' message cap; when given, the suite checks MESSAGE_TOO_LARGE one byte over it. */
  maxMessageBytes?: number
  /** Largest `bufferedAmount` allowed right after an awaited send() resolves. Default 64 MiB. */
  maxBufferedAfterSend?: number
}

const MiB = 1024 * 1024

export function runTransportContract(
  name: string,
  makePair: () => Promise<LinkPairFixture>,
  options: TransportContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 60_000
  const maxBuffered = options.maxBufferedAfterSend ?? 64 * MiB

  describe(`${name}: Link contract`, () => {
    let pair: LinkPairFixture
    beforeEach(async () => {
      pair = await makePair()
    }, timeout)
    afterEach(async () => {
      await pair.cleanup()
    }, timeout)

    it('starts open, with distinct ids and nothing buffered', () => {
      const { a, b } = pair
      expect([a.state, b.state]).toEqual(['open', 'open'])
      expect(typeof a.id).toBe('string')
      expect(a.id).not.toBe(b.id)
      expect([a.bufferedAmount, b.bufferedAmount]).toEqual([0, 0])
    })

    it('keeps message boundaries and order, both directions at once', async () => {
      const { a, b } = pair
      const sizesAB = randomSizes(new Prng(1), 300)
      const sizesBA = randomSizes(new Prng(2), 300)
      const gotAB = receive(b, sizesAB.length, (data, k) => checkPattern(data, 1, k, sizesAB[k] ?? -1))
      const gotBA = receive(a, sizesBA.length, (data, k) => checkPattern(data, 2, k, sizesBA[k] ?? -1))
      await Promise.all([sendAll(a, sizesAB, 1), sendAll(b, sizesBA, 2), gotAB, gotBA])
    }, timeout)

    it('delivers empty messages as empty messages, between others', async () => {
      const { a, b } = pair
      const sizes = [0, 3, 0, 0, 1, 0]
      const got = receive(b, sizes.length, (data, k) => checkPattern(data, 3, k, sizes[k] ?? -1))
      await Promise.all([sendAll(a, sizes, 3), got])
    }, timeout)

    it('carries a 10 MiB message intact', async () => {
      const { a, b } = pair
      const big = new Prng(4).bytes(10 * MiB)
      const got = receive(b, 2, (data, k) => (k === 0 ? sameBytes(data, big) : checkPattern(data, 4, k, 5)))
      await Promise.all([a.send(big), a.send(pattern(4, 1, 5)), got])
    }, timeout)

    it('copies on send: the caller may reuse its buffer, and a view sends only its bytes', async () => {
      const { a, b } = pair
      const buffer = pattern(5, 0, 64)
      const view = pattern(5, 1, 100).subarray(10, 30)
      const expected = [pattern(5, 0, 64), pattern(5, 1, 100).slice(10, 30)]
      const got = receive(b, 2, (data, k) => sameBytes(data, expected[k] ?? new Uint8Array()))
      const sent = [a.send(buffer), a.send(view)]
      buffer.fill(0xee)
      await Promise.all([...sent, got])
    }, timeout)

    it('backpressure: a burst raises bufferedAmount, and everything arrives in order', async () => {
      const { a, b } = pair
      const sizes = new Array<number>(64).fill(MiB)
      const got = receive(b, sizes.length, (data, k) => checkPattern(data, 6, k, MiB))
      const sends = sizes.map((size, k) => a.send(pattern(6, k, size)))
      expect(a.bufferedAmount).toBeGreaterThan(0)
      await Promise.all([...sends, got])
      expect(a.bufferedAmount).toBe(0)
    }, timeout)

    it('backpressure: awaiting send() keeps the buffer bounded', async () => {
      const { a, b } = pair
      const sizes = new Array<number>(192).fill(256 * 1024)
      const got = receive(b, sizes.length, (data, k) => checkPattern(data, 7, k, 256 * 1024))
      let peak = 0
      for (const [k, size] of sizes.entries()) {
        await a.send(pattern(7, k, size))
        peak = Math.max(peak, a.bufferedAmount)
      }
      await got
      expect(peak).toBeLessThanOrEqual(maxBuffered)
    }, timeout)

    it('urgent sends: every message arrives once; urgent and other messages each keep their order', async () => {
      const { a, b } = pair
      const seen: string[] = []
      const all = receive(b, 24, (data) => {
        seen.push(`${data[0] === 1 ? 'u' : 'n'}${data[1] ?? -1}`)
        return data.length === (data[0] === 1 ? 16 : MiB) ? undefined : `unexpected size ${data.length}`
      })
      const tagged = (urgent: boolean, k: number, size: number): Uint8Array => {
        const out = new Uint8Array(size)
        out[0] = urgent ? 1 : 0
        out[1] = k
        return out
      }
      const sends: Promise<void>[] = []
      for (let k = 0; k < 16; k++) {
        sends.push(a.send(tagged(false, k, MiB)))
        if (k % 2 === 0) sends.push(a.send(tagged(true, k / 2, 16), { urgent: true }))
      }
      await Promise.all([...sends, all])
      expect(seen.filter((t) => t.startsWith('n'))).toEqual(Array.from({ length: 16 }, (_, k) => `n${k}`))
      expect(seen.filter((t) => t.startsWith('u'))).toEqual(Array.from({ length: 8 }, (_, k) => `u${k}`))
    }, timeout)

    for (const side of ['a', 'b'] as const) {
      it(`close() from ${side}: both ends see one 'close', then sends reject with LINK_CLOSED`, async () => {
        const [closer, other] = side === 'a' ? [pair.a, pair.b] : [pair.b, pair.a]
        const closerEvents = watchClose(closer)
        const otherEvents = watchClose(other)
        await closer.close()
        await otherEvents.closed
        await closer.close() // idempotent
        await other.close()
        expect([closer.state, other.state]).toEqual(['closed', 'closed'])
        expect(closerEvents.reasons).toEqual([undefined])
        expect(otherEvents.reasons).toHaveLength(1)
        const remoteReason = otherEvents.reasons[0]
        if (remoteReason !== undefined) expect(remoteReason.code).toBe('LINK_CLOSED')
        await expectCode(closer.send(new Uint8Array(1)), 'LINK_CLOSED')
        await expectCode(other.send(new Uint8Array(1)), 'LINK_CLOSED')
        expect(closerEvents.messages + otherEvents.messages).toBe(0)
      }, timeout)
    }

    it('close() is idempotent: concurrent and repeated calls resolve, one close event', async () => {
      const { a, b } = pair
      const events = watchClose(a)
      const remote = watchClose(b)
      await Promise.all([a.close(), a.close(), a.close()])
      await remote.closed
      await a.close()
      expect(events.reasons).toEqual([undefined])
      expect(remote.reasons).toHaveLength(1)
    }, timeout)

    it('both ends closing at once: each sees exactly one close', async () => {
      const { a, b } = pair
      const ea = watchClose(a)
      const eb = watchClose(b)
      await Promise.all([a.close(), b.close()])
      await Promise.all([ea.closed, eb.closed])
      expect([ea.reasons.length, eb.reasons.length]).toEqual([1, 1])
      expect([a.state, b.state]).toEqual(['closed', 'closed'])
    }, timeout)

    it('closing with traffic in flight: the peer gets an ordered prefix, each once, nothing after close', async () => {
      const { a, b } = pair
      const received: number[] = []
      let afterClose = 0
      const closed = watchClose(b)
      b.on('message', (data) => {
        if (b.state === 'closed' || closed.reasons.length > 0) afterClose++
        received.push(data.length >= 4 ? new DataView(data.buffer, data.byteOffset).getUint32(0) : -1)
      })
      const sends = Array.from({ length: 100 }, (_, k) => a.send(indexed(k, 256 * 1024)))
      const settled = Promise.allSettled(sends) // observe every rejection before close() causes it
      await a.close()
      const outcomes = await settled
      await closed.closed
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(codeOf(outcome.reason)).toBe('LINK_CLOSED')
      }
      expect(received).toEqual(received.map((_, k) => k))
      expect(afterClose).toBe(0)
      expect(closed.reasons).toHaveLength(1)
    }, timeout)

    it("an unsubscribed listener hears nothing more; the others still do", async () => {
      const { a, b } = pair
      let heardByOff = 0
      const off = b.on('message', () => heardByOff++)
      const got = receive(b, 1, (data) => checkPattern(data, 8, 0, 16))
      off()
      await Promise.all([a.send(pattern(8, 0, 16)), got])
      expect(heardByOff).toBe(0)
    }, timeout)

    it('send() of anything but a Uint8Array rejects with INVALID_MESSAGE; the link stays usable', async () => {
      const { a, b } = pair
      const bad: unknown[] = ['text', new ArrayBuffer(4), [1, 2], null, undefined, 42, new Uint16Array(2), new DataView(new ArrayBuffer(2))]
      for (const value of bad) await expectCode(a.send(value as Uint8Array), 'INVALID_MESSAGE')
      const got = receive(b, 1, (data) => checkPattern(data, 9, 0, 8))
      await Promise.all([a.send(pattern(9, 0, 8)), got])
      expect(a.state).toBe('open')
    }, timeout)

    const cap = options.maxMessageBytes
    if (cap !== undefined) {
      it('a message over the cap rejects with MESSAGE_TOO_LARGE; the link stays usable', async () => {
        const { a, b } = pair
        await expectCode(a.send(new Uint8Array(cap + 1)), 'MESSAGE_TOO_LARGE')
        const got = receive(b, 1, (data) => checkPattern(data, 10, 0, 8))
        await Promise.all([a.send(pattern(10, 0, 8)), got])
      }, timeout)
    }
  })
}

/** Mostly small, some medium, a few large (up to 256 KiB), a few empty. */
function randomSizes(prng: Prng, count: number): number[] {
  return Array.from({ length: count }, () => {
    const r = prng.next()
    if (r < 0.05) return 0
    if (r < 0.75) return 1 + prng.int(1024)
    if (r < 0.95) return 1 + prng.int(64 * 1024)
    return 1 + prng.int(256 * 1024)
  })
}

/** Deterministic content for message `k` of stream `stream`. */
function pattern(stream: number, k: number, size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (stream * 97 + k * 131 + i * 7) & 0xff
  return out
}

function checkPattern(data: Uint8Array, stream: number, k: number, size: number): string | undefined {
  if (data.length !== size) return `message #${k}: ${data.length} bytes, expected ${size}`
  for (let i = 0; i < size; i++) {
    if (data[i] !== ((stream * 97 + k * 131 + i * 7) & 0xff)) return `message #${k}: wrong byte at ${i} (reordered or corrupted)`
  }
  return undefined
}

function sameBytes(data: Uint8Array, expected: Uint8Array): string | undefined {
  if (!(data instanceof Uint8Array)) return 'not a Uint8Array'
  if (data.length !== expected.length) return `${data.length} bytes, expected ${expected.length}`
  for (let i = 0; i < data.length; i++) if (data[i] !== expected[i]) return `wrong byte at ${i}`
  return undefined
}

/** A message whose first 4 bytes are its index. */
function indexed(k: number, size: number): Uint8Array {
  const out = new Uint8Array(size)
  new DataView(out.buffer).setUint32(0, k)
  return out
}

async function sendAll(link: Link, sizes: readonly number[], stream: number): Promise<void> {
  for (const [k, size] of sizes.entries()) await link.send(pattern(stream, k, size))
}

/**
 * Resolves when `link` has received `count` messages that all pass `check`; rejects at the first
 * failing or extra message, or if the link closes first.
 */
function receive(link: Link, count: number, check: (data: Uint8Array, k: number) => string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let k = 0
    const offs: Array<() => void> = []
    const stop = (): void => offs.forEach((off) => off())
    offs.push(
      link.on('message', (data) => {
        const problem = check(data, k)
        k++
        if (problem !== undefined) {
          stop()
          reject(new Error(`${link.id}: ${problem}`))
        } else if (k === count) {
          stop()
          resolve()
        }
      }),
      link.on('close', (reason) => {
        stop()
        reject(new Error(`${link.id} closed after ${k} of ${count} messages`, { cause: reason }))
      }),
    )
  })
}

function watchClose(link: Link): { reasons: Array<P2PError | undefined>; messages: number; closed: Promise<void> } {
  const watch = { reasons: [] as Array<P2PError | undefined>, messages: 0, closed: Promise.resolve() }
  watch.closed = new Promise((resolve) => {
    link.on('close', (reason) => {
      watch.reasons.push(reason)
      resolve()
    })
  })
  link.on('message', () => {
    if (watch.reasons.length > 0) watch.messages++
  })
  return watch
}

function codeOf(err: unknown): ErrorCode | string {
  return err instanceof P2PError ? err.code : `not a P2PError: ${String(err)}`
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const outcome = await promise.then(
    () => 'resolved',
    (err: unknown) => codeOf(err),
  )
  expect(outcome).toBe(code)
}
