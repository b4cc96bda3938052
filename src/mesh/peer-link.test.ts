import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../testing/fake-clock.js'
import { createMemoryLinkPair } from '../transport/memory.js'
import { toHex } from '../util/bytes.js'
import { encodeBody, syncDigest, type Digest } from '../wire/frame.js'
import type { MeshMessage } from './messages.js'
import { PeerLink, type PeerLinkContext, type PeerLinkSigning } from './peer-link.js'
import type { SignatureVerifier } from '../wire/signed.js'

const A = '2' + 'a'.repeat(40)
const B = '3' + 'b'.repeat(40)

/** A digest that answers large inputs only when the test says so, in the order the test picks. */
function heldDigest(): { digest: Digest; held: (() => void)[] } {
  const held: (() => void)[] = []
  const digest: Digest = (data) => (data.length < 1024 ? sha256(data) : new Promise((resolve) => held.push(() => resolve(sha256(data)))))
  return { digest, held }
}

function context(localId: string, digest: Digest, seen = new Set<string>()): PeerLinkContext {
  return {
    localId,
    protocolId: 'proto',
    codec: {},
    clock: new FakeClock(),
    handshakeTimeoutMs: 10_000,
    maxBadFrames: 4,
    digest,
    seenBefore: (id) => seen.has(toHex(id)),
    maxMessagesPerSecond: 1_000,
    rateLimitGraceMs: 5_000,
  }
}

async function pair(digestA: Digest, digestB: Digest, seenByB?: Set<string>): Promise<[PeerLink, PeerLink]> {
  const [la, lb] = createMemoryLinkPair()
  const a = new PeerLink(la, true, context(A, digestA))
  const b = new PeerLink(lb, false, context(B, digestB, seenByB))
  const ready = Promise.all([a, b].map((p) => new Promise<void>((resolve) => p.on('ready', resolve))))
  a.start()
  b.start()
  await ready
  return [a, b]
}

const whisper = (...payload: unknown[]): MeshMessage => ({ kind: 'whisper', payload })

describe('PeerLink with an asynchronous digest', () => {
  it('delivers frames in arrival order when a large one waits on its digest', async () => {
    const receiver = heldDigest()
    const [a, b] = await pair(syncDigest, receiver.digest)
    const got: unknown[] = []
    b.on('message', (m) => m.kind === 'whisper' && got.push(m.payload.length === 1 && m.payload[0] instanceof Uint8Array ? 'large' : m.payload[0]))
    await a.send(whisper(new Uint8Array(4096)))
    await a.send(whisper('small 1'))
    await a.send(whisper('small 2'))
    await expect.poll(() => receiver.held.length).toBe(1)
    expect(got).toEqual([]) // the small ones wait behind the large one
    receiver.held.shift()!()
    await expect.poll(() => got.length).toBe(3)
    expect(got).toEqual(['large', 'small 1', 'small 2'])
    await Promise.all([a.close(), b.close()])
  })

  it('sends our messages in call order when a large one waits on its digest', async () => {
    const sender = heldDigest()
    const [a, b] = await pair(sender.digest, syncDigest)
    const got: unknown[] = []
    b.on('message', (m) => m.kind === 'whisper' && got.push(typeof m.payload[0] === 'string' ? m.payload[0] : 'large'))
    const sends = [a.send(whisper(new Uint8Array(4096))), a.send(whisper('after'))]
    expect(sender.held).toHaveLength(1)
    sender.held.shift()!()
    await Promise.all(sends)
    await expect.poll(() => got).toEqual(['large', 'after'])
    await Promise.all([a.close(), b.close()])
  })

  it('still throws at once for a payload the wire cannot carry', async () => {
    const [a, b] = await pair(syncDigest, syncDigest)
    expect(() => a.send(whisper(() => 1))).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD' }))
    await Promise.all([a.close(), b.close()])
  })
})

describe('PeerLink duplicate pre-check', () => {
  it('drops a frame whose id was seen before, without decoding it', async () => {
    const seen = new Set<string>()
    let hashed = 0
    const counting: Digest = (data) => {
      hashed++
      return sha256(data)
    }
    const [a, b] = await pair(syncDigest, counting, seen)
    const got: unknown[] = []
    b.on('message', (m) => m.kind === 'whisper' && got.push(m.payload[0]))
    await a.send(whisper('first'))
    await expect.poll(() => got).toEqual(['first'])
    const before = hashed
    // Mark the next frame's id as seen: it must be dropped before any hashing (after its lane's
    // deflate stream gave the id back).
    const body = encodeBody({ type: 0x01, sender: A, time: 1, payload: [0x01, 'again'] })
    seen.add(toHex(body.subarray(0, 32)))
    const frame = a.codec.frame(body)
    expect(frame[0]! & 0x80).toBe(0x80) // a stream frame: the id is not in the clear
    await a.link.send(frame)
    await a.send(whisper('third'))
    await expect.poll(() => got).toEqual(['first', 'third'])
    expect(hashed).toBe(before + 1) // only 'third' was hashed
    await Promise.all([a.close(), b.close()])
  })
})

describe('PeerLink in the signed mode', () => {
  it('starts the signature checks of consecutive frames at once, and acts on them in arrival order', async () => {
    const { Identity } = await import('../wire/identity.js')
    const { encodeBody, frameBody } = await import('../wire/frame.js')
    const { signingInput } = await import('../wire/signed.js')
    const { meshFrame } = await import('./messages.js')
    const [ida, idb] = await Promise.all([Identity.generate({ backend: 'noble' }), Identity.generate({ backend: 'noble' })])
    const held: ((ok: boolean) => void)[] = []
    const frameContext = new TextEncoder().encode('p2p-today/1 frame')
    const verifier = {
      idMatches: () => true,
      // Handshake proofs pass at once; frame signatures wait until the test answers them.
      verify: (_key: Uint8Array, data: Uint8Array) =>
        frameContext.every((b, i) => data[i] === b) ? new Promise<boolean>((resolve) => held.push(resolve)) : true,
    } as unknown as SignatureVerifier
    const signed = (identity: typeof ida, id: string): PeerLinkSigning => ({
      identity,
      verifier,
      maxClockSkewMs: 300_000,
      randomBytes: (n) => new Uint8Array(n).fill(id.length),
    })
    const [la, lb] = createMemoryLinkPair()
    const clock = new FakeClock({ startTime: 1_700_000_000_000 })
    const ctx = (id: string, identity: typeof ida): PeerLinkContext => ({ ...context(id, syncDigest), clock, codec: { variant: 'signed' }, signing: signed(identity, id) })
    const a = new PeerLink(la, true, ctx(ida.id, ida))
    const b = new PeerLink(lb, false, ctx(idb.id, idb))
    await Promise.all([a, b].map((p) => new Promise<void>((resolve) => (p.on('ready', resolve), p.start()))))
    const got: unknown[] = []
    b.on('message', (m) => m.kind === 'broadcast' && got.push(m.payload[0]))
    for (const text of ['one', 'two', 'three']) {
      const msg = meshFrame({ kind: 'broadcast', payload: [text] }, ida.id, Math.floor(clock.now() / 1000))
      const unsigned = encodeBody(msg, { variant: 'signed' })
      const signature = await ida.sign(signingInput('proto', unsigned.subarray(0, 32)))
      await a.link.send(frameBody(encodeBody(msg, { variant: 'signed', auth: { publicKey: ida.publicKey, signature } })))
    }
    await expect.poll(() => held.length).toBe(3) // all three checks under way before any answered
    expect(got).toEqual([])
    held[2]!(true)
    held[1]!(true)
    await Promise.resolve()
    expect(got).toEqual([]) // 'one' still unanswered: nothing overtakes it
    held[0]!(true)
    await expect.poll(() => got).toEqual(['one', 'two', 'three'])
    await Promise.all([a.close(), b.close()])
  })
})

describe('PeerLink over the deflate stream', () => {
  it('a piece that does not continue the stream closes the link at once (BAD_FRAME, STREAM_BROKEN)', async () => {
    const [a, b] = await pair(syncDigest, syncDigest)
    expect(a.codec.sendMethod).toBe(0x14)
    const closed = new Promise<unknown>((resolve) => b.on('closed', resolve))
    await a.link.send(new Uint8Array([0x80, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]))
    expect(await closed).toMatchObject({ code: 'BAD_FRAME', cause: { code: 'STREAM_BROKEN' } })
  })

  it('a frame dropped over the rate limit is still inflated: the frames after it decode', async () => {
    const [la, lb] = createMemoryLinkPair()
    const clock = new FakeClock()
    const a = new PeerLink(la, true, context(A, syncDigest))
    const b = new PeerLink(lb, false, { ...context(B, syncDigest), clock, maxMessagesPerSecond: 4, rateLimitGraceMs: 60_000 })
    const ready = Promise.all([a, b].map((p) => new Promise<void>((resolve) => p.on('ready', resolve))))
    a.start()
    b.start()
    await ready
    const got: unknown[] = []
    let dropped = 0
    b.on('message', (m) => m.kind === 'whisper' && got.push(m.payload[0]))
    b.on('dropped', () => dropped++)
    for (let i = 0; i < 8; i++) await a.send(whisper(`burst ${i}`))
    await expect.poll(() => got.length + dropped).toBe(8)
    expect(dropped).toBeGreaterThan(0)
    clock.advance(10_000)
    await a.send(whisper('after the burst'))
    await expect.poll(() => got.at(-1)).toBe('after the burst')
    expect(b.state).toBe('ready')
    await Promise.all([a.close(), b.close()])
  })
})
