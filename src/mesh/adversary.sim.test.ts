import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import type { P2PError } from '../errors.js'
import { simRawPeer, type RawPeer } from '../testing/raw-peer.js'
import { SimNetwork } from '../testing/sim-network.js'
import { simIdentity, simMeshNode, type SimMeshNode } from '../testing/sim-mesh.js'
import { FLAGS, ID_BYTES, LEN_BYTES, encodeBody, frameBody } from '../wire/index.js'
import type { MeshMessage } from './messages.js'
import { MeshSocket } from '../platform.js'

// Adversarial peers on the simulated network, signed mode (the default). Each test ends by
// checking that the honest nodes stayed up, delivered nothing forged, and kept their links.

function network(seed = 21): SimNetwork {
  return new SimNetwork({ seed, latency: { min: 1, max: 10 } })
}

/** Honest a — b — c in a line, and an attacker linked to b (handshake done, signed). */
async function scene(seed?: number): Promise<{ sim: SimNetwork; a: SimMeshNode; b: SimMeshNode; c: SimMeshNode; evil: RawPeer; errors: P2PError[] }> {
  const sim = network(seed)
  const a = await simMeshNode(sim, [], { maxOutgoing: 1 })
  const b = await simMeshNode(sim, [a.id], { maxOutgoing: 1 })
  const c = await simMeshNode(sim, [b.id], { maxOutgoing: 1, maxIncoming: 0 })
  expect(await sim.runUntil(() => c.socket.peers.length === 1 && a.socket.peers.length === 1)).toBe(true)
  const errors: P2PError[] = []
  b.socket.on('error', (e) => errors.push(e))
  const evil = await simRawPeer(sim, b.id, b.socket.protocolId, { answerPings: true })
  await evil.handshake()
  expect(await sim.runUntil(() => b.socket.peers.includes(evil.id))).toBe(true)
  return { sim, a, b, c, evil, errors }
}

const now = (sim: SimNetwork): number => Math.floor(sim.clock.now() / 1000)
const broadcast = (...payload: unknown[]): MeshMessage => ({ kind: 'broadcast', payload })
const delivered = (n: SimMeshNode, tag: string): number => n.messages.filter((m) => m.payload[0] === tag).length

/** Honest traffic still flows both ways along a — b — c, once each. */
async function honestStillWork(sim: SimNetwork, a: SimMeshNode, b: SimMeshNode, c: SimMeshNode, tag: string): Promise<void> {
  expect(a.socket.peers).toContain(b.id)
  expect(c.socket.peers).toContain(b.id)
  await a.socket.send(`${tag}-from-a`)
  await c.socket.send(`${tag}-from-c`)
  expect(await sim.runUntil(() => delivered(c, `${tag}-from-a`) === 1 && delivered(a, `${tag}-from-c`) === 1 && delivered(b, `${tag}-from-a`) === 1)).toBe(true)
}

describe('adversarial peers (signed mode, simulated network)', () => {
  it('a broadcast forged in another node’s name is dropped by the first honest node: nobody delivers it', async () => {
    const { sim, a, b, c, evil, errors } = await scene()
    const t = now(sim)
    // 1. Signed with the attacker's own key, sender = a.
    await evil.send(await evil.frame(broadcast('forged-1'), { sender: a.id, sign: 'self', time: t }))
    // 2. a's public key in the block, the attacker's signature.
    const forged2 = (await evil.frame(broadcast('forged-2'), { sender: a.id, sign: 'self', time: t })).slice()
    forged2.set(a.identity.publicKey, LEN_BYTES + ID_BYTES + 1)
    await evil.send(forged2)
    // 3. No signature at all (link-authenticated form) for a broadcast.
    await evil.send(await evil.frame(broadcast('forged-3'), { sender: a.id, time: t }))
    expect(await sim.runUntil(() => b.socket.stats.forged === 3)).toBe(true)
    await sim.runFor(1_000)
    for (const n of [a, b, c]) for (const tag of ['forged-1', 'forged-2', 'forged-3']) expect(delivered(n, tag)).toBe(0)
    expect(errors.map((e) => e.code)).toEqual(['FORGED', 'FORGED', 'FORGED'])
    expect(errors.every((e) => 'peerId' in e && e.peerId === evil.id)).toBe(true)
    await honestStillWork(sim, a, b, c, 'after-forgery')
  })

  it('an altered or re-attributed copy of a genuine broadcast is dropped; a plain replay is a duplicate', async () => {
    const { sim, a, b, c, evil, errors } = await scene()
    await a.socket.send('genuine')
    expect(await sim.runUntil(() => evil.payloads(FLAGS.broadcast).some((p) => p[0] === 'genuine'))).toBe(true)
    const copy = evil.received.find((r) => r.frame.type === FLAGS.broadcast && r.frame.payload[1] === 'genuine')!.frame
    expect(copy.sender).toBe(a.id)
    expect(copy.auth).toBeDefined()
    // Altered payload, the original signature kept (the id recomputed): the signature fails.
    const altered = frameBody(encodeBody({ type: copy.type, sender: copy.sender, time: copy.time, payload: [FLAGS.broadcast, 'altered'] }, { variant: 'signed', auth: copy.auth! }))
    await evil.send(altered)
    // Re-attributed to c, the original signature kept: the key is not c's.
    const moved = frameBody(encodeBody({ type: copy.type, sender: c.id, time: copy.time, payload: copy.payload }, { variant: 'signed', auth: copy.auth! }))
    await evil.send(moved)
    // Altered payload under the original id: that id was seen, so it is dropped as a copy of it
    // before anything else is looked at (and would fail its checksum otherwise).
    const dupsBefore = b.socket.stats.duplicates
    const badSum = frameBody(copy.body).slice()
    badSum[badSum.length - 1]! ^= 1
    await evil.send(badSum)
    // The very same bytes again, 20 times: duplicates, never delivered twice.
    const inBefore = b.socket.stats.messagesIn
    for (let i = 0; i < 20; i++) await evil.send(frameBody(copy.body))
    expect(await sim.runUntil(() => errors.length === 2 && b.socket.stats.duplicates >= dupsBefore + 21)).toBe(true)
    expect(errors.map((e) => e.code)).toEqual(['FORGED', 'FORGED'])
    expect(b.socket.stats.messagesIn - inBefore).toBeGreaterThanOrEqual(20) // dropped copies are still frames that came in
    for (const n of [b, c]) expect(delivered(n, 'genuine')).toBe(1)
    for (const n of [a, b, c]) expect(delivered(n, 'altered')).toBe(0)
    expect(c.messages.filter((m) => m.sender === c.id)).toEqual([])
    await honestStillWork(sim, a, b, c, 'after-replay')
  })

  it('a replay after the seen cache forgot the id is outside the replay window: dropped, not delivered', async () => {
    const { sim, a, b, c, evil } = await scene()
    await a.socket.send('old news')
    expect(await sim.runUntil(() => evil.payloads(FLAGS.broadcast).some((p) => p[0] === 'old news'))).toBe(true)
    const copy = evil.received.find((r) => r.frame.payload[1] === 'old news')!.frame
    // 11 minutes later the seen cache (10 min) no longer has it; the window is 5 min.
    await sim.runFor(11 * 60_000)
    expect(b.socket.peers).toContain(evil.id)
    await evil.send(frameBody(copy.body))
    expect(await sim.runUntil(() => b.socket.stats.stale === 1)).toBe(true)
    await sim.runFor(1_000)
    expect(delivered(b, 'old news')).toBe(1)
    expect(delivered(c, 'old news')).toBe(1)
    await honestStillWork(sim, a, b, c, 'after-stale')
  })

  it('a routed whisper or signal in another node’s name is dropped', async () => {
    const { sim, a, b, c, evil } = await scene()
    const t = now(sim)
    await evil.send(await evil.frame({ kind: 'routed-whisper', target: c.id, payload: ['spoofed whisper'] }, { sender: a.id, sign: 'self', time: t }))
    await evil.send(await evil.frame({ kind: 'routed-signal', target: c.id, blob: { s: 'x', d: { type: 'offer', sdp: '' } } }, { sender: a.id, sign: 'self', time: t }))
    expect(await sim.runUntil(() => b.socket.stats.forged === 2)).toBe(true)
    await sim.runFor(1_000)
    expect(c.messages.some((m) => m.payload[0] === 'spoofed whisper')).toBe(false)
    await honestStillWork(sim, a, b, c, 'after-routed')
  })

  it('a handshake claiming another node’s id fails: with its own key, with the victim’s key, or with a replayed proof', async () => {
    const sim = network(5)
    const honest = await simMeshNode(sim, [])
    const errors: P2PError[] = []
    honest.socket.on('error', (e) => errors.push(e))
    const victim = await simIdentity(sim) // a node the attacker wants to be (not on the network)
    const pid = honest.socket.protocolId

    // The victim's id on a link that shows the attacker's own: refused, and the error names the
    // link's id (the attacker), never the id it merely claimed.
    const liar = await simRawPeer(sim, honest.id, pid, { claimId: victim.id, transportId: 'attacker-link-id' })
    await liar.handshake()
    expect(await sim.runUntil(() => liar.closed !== undefined)).toBe(true)
    expect(errors.shift()).toMatchObject({ code: 'HANDSHAKE_FAILED', peerId: 'attacker-link-id' })

    // Its own key, the victim's id (the link shows the victim's id, as if the signaling server had been fooled).
    const own = await simRawPeer(sim, honest.id, pid, { claimId: victim.id })
    await own.handshake()
    expect(await sim.runUntil(() => own.closed !== undefined)).toBe(true)
    sim.kill(victim.id)

    // The victim's key (public), no secret: the auth it sends is signed with its own key.
    const attacker = await simIdentity(sim)
    const borrowed = await simRawPeer(sim, honest.id, pid, { claimId: victim.id, identity: attacker })
    Object.defineProperty(borrowed.identity, 'publicKey', { value: victim.publicKey }) // shows the victim's key
    await borrowed.handshake()
    expect(await sim.runUntil(() => borrowed.closed !== undefined)).toBe(true)
    sim.kill(victim.id)

    // A proof the victim really made, on another link (recorded in another network, same
    // subnet), replayed with the victim's key and even the same nonce: this link's nonces differ.
    const elsewhere = network(6)
    const witness = await simMeshNode(elsewhere, [])
    const recorder = await simRawPeer(elsewhere, witness.id, pid, { identity: victim })
    await recorder.handshake()
    expect(await elsewhere.runUntil(() => witness.socket.peers.includes(victim.id))).toBe(true)
    const recorded = recorder.sentAuth[0]!
    const nonce = (recorder as unknown as { peerNonce: Uint8Array }).peerNonce
    expect(nonce).toBeDefined()
    const replayer = await simRawPeer(sim, honest.id, pid, { claimId: victim.id, identity: attacker, proof: 'none' })
    Object.defineProperty(replayer.identity, 'publicKey', { value: victim.publicKey })
    await replayer.handshake()
    expect(await sim.runUntil(() => replayer.peerNonce !== undefined)).toBe(true)
    await replayer.sendAuth(recorded)
    expect(await sim.runUntil(() => replayer.closed !== undefined)).toBe(true)

    expect(errors.map((e) => e.code)).toEqual(['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED'])
    expect(honest.socket.peers).toEqual([])
  })
})

describe('limits against a flooding or hoarding peer', () => {
  it('drops frames over maxMessagesPerSecond unread, and the peer once it stays over the rate', async () => {
    const sim = network(8)
    const node = await simMeshNode(sim, [], { maxMessagesPerSecond: 50, rateLimitGraceMs: 2_000 })
    const honest = await simMeshNode(sim, [node.id])
    expect(await sim.runUntil(() => node.socket.peers.includes(honest.id))).toBe(true)
    const errors: P2PError[] = []
    node.socket.on('error', (e) => errors.push(e))
    const flood = await simRawPeer(sim, node.id, node.socket.protocolId, { answerPings: true })
    await flood.handshake()
    expect(await sim.runUntil(() => node.socket.peers.includes(flood.id))).toBe(true)
    // 1,000 distinct signed broadcasts within a few ms: far over 50 per second.
    const t = now(sim)
    for (let i = 0; i < 1_000; i++) await flood.send(await flood.frame(broadcast('flood', i), { sign: 'self', time: t }))
    const settled = await sim.runUntil(() => delivered(node, 'flood') + node.socket.stats.rateLimited >= 1_000)
    expect(settled, JSON.stringify({ got: delivered(node, 'flood'), ...node.socket.stats })).toBe(true)
    const got = delivered(node, 'flood')
    expect(got).toBeLessThanOrEqual(51)
    expect(node.socket.stats.rateLimited).toBeGreaterThanOrEqual(1_000 - got)
    // Over the rate without a break (~10 frames every 100 ms, twice the rate) for 2 s: dropped.
    for (let round = 0; round < 30 && flood.closed === undefined; round++) {
      for (let i = 0; i < 10; i++) await flood.send(await flood.frame(broadcast('flood-2', round, i), { sign: 'self', time: now(sim) })).catch(() => {})
      await sim.runFor(100)
    }
    expect(await sim.runUntil(() => flood.closed !== undefined)).toBe(true)
    expect(errors.map((e) => e.code)).toContain('RATE_LIMITED')
    // The honest neighbour is untouched.
    await honest.socket.send('calm')
    expect(await sim.runUntil(() => delivered(node, 'calm') === 1)).toBe(true)
  })

  it('closes incoming links past maxPendingHandshakes', async () => {
    const sim = network(9)
    const node = await simMeshNode(sim, [], { maxPendingHandshakes: 2 })
    const errors: P2PError[] = []
    node.socket.on('error', (e) => errors.push(e))
    const silent: RawPeer[] = []
    for (let i = 0; i < 3; i++) silent.push(await simRawPeer(sim, node.id, node.socket.protocolId, { proof: 'none' })) // never shake hands
    expect(await sim.runUntil(() => silent[2]!.closed !== undefined)).toBe(true)
    expect(silent[0]!.closed, String((silent[0]!.closed?.reason as Error | undefined)?.message)).toBeUndefined()
    expect(errors.map((e) => e.code)).toEqual(['TOO_MANY_HANDSHAKES'])
    // The pending ones time out as usual, and a real node still gets in.
    const later = await simMeshNode(sim, [node.id])
    expect(await sim.runUntil(() => node.socket.peers.includes(later.id), 1_000_000)).toBe(true)
  })

  it('relays at most maxSignalRelaysPerMinute signal blobs for one origin', async () => {
    const { sim, b, c, evil } = await scene(12)
    void c
    const t = now(sim)
    // Signal blobs for c, through b: b relays 60, drops the rest of this minute.
    for (let i = 0; i < 70; i++) await evil.send(await evil.frame({ kind: 'routed-signal', target: c.id, blob: { s: `s${i}`, d: { type: 'candidate' } } }, { sign: 'self', time: t }))
    expect(await sim.runUntil(() => b.socket.stats.signalsDropped === 10)).toBe(true)
    expect(b.socket.stats.forged).toBe(0)
  })
})

describe('modes and identities', () => {
  it('signed and unsigned (0.7) nodes are different subnets; unsigned nodes still talk 0.7', async () => {
    const sim = network(13)
    const signed = await simMeshNode(sim, [])
    const errors: P2PError[] = []
    signed.socket.on('error', (e) => errors.push(e))
    const old = await simMeshNode(sim, [signed.id], { security: 'unsigned' })
    expect(await sim.runUntil(() => errors.some((e) => e.code === 'SUBNET_MISMATCH'))).toBe(true)
    expect(signed.socket.peers).toEqual([])
    const old2 = await simMeshNode(sim, [old.id], { security: 'unsigned' })
    expect(await sim.runUntil(() => old2.socket.peers.includes(old.id))).toBe(true)
    await old.socket.send('0.7 style')
    expect(await sim.runUntil(() => delivered(old2, '0.7 style') === 1)).toBe(true)
    expect(old.socket.protocolId).not.toBe(signed.socket.protocolId)
  })

  it("identity 'persistent' comes back the same after the socket closes (IndexedDB; fake-indexeddb here)", async () => {
    const sim = network(14)
    const first = new MeshSocket({ subnet: 'persist', identity: 'persistent' }, { network: async ({ identity }) => ({ transport: sim.transport(identity.id), bootstrap: [], close: async () => {} }) })
    await first.ready()
    const id = first.id
    await first.close()
    sim.kill(id)
    const again = new MeshSocket({ subnet: 'persist', identity: 'persistent' }, { network: async ({ identity }) => ({ transport: sim.transport(identity.id), bootstrap: [], close: async () => {} }) })
    await again.ready()
    expect(again.id).toBe(id)
    // Held by `again`: a second live socket of the subnet gets the next slot, another id.
    const other = new MeshSocket({ subnet: 'persist', identity: 'persistent' }, { network: async ({ identity }) => ({ transport: sim.transport(identity.id), bootstrap: [], close: async () => {} }) })
    await other.ready()
    expect(other.id).not.toBe(id)
    await Promise.all([again.close(), other.close()])
  })
})
