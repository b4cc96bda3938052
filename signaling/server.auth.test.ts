import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CLOSE_CODES, CLOSE_REPLACED, type RefusalReason } from '../src/transport/signaling/protocol.js'
import { Identity } from '../src/wire/identity.js'
import { startSignalingServer, type SignalingServer } from './server.js'
import { FakeClock, NET_A, NET_B, RawClient, joinRaw, registrationParts, socketUrl, type RegistrationParts } from './testing.js'

/**
 * Identity-tied registration against a live server: an id can be registered only with its
 * key, every refusal names its reason (ERROR payload and close code), and PeerJS never sees
 * a refused socket (its first frame is the refusal, not OPEN). A new registration with the
 * key takes a live id over.
 */
const clock = new FakeClock()
let server: SignalingServer
let alice: Identity
let bob: Identity
let mallory: Identity
const sockets: RawClient[] = []

beforeAll(async () => {
  server = await startSignalingServer({ port: 0 }, { now: clock.read })
  return () => server.close()
})
// Fresh identities per test: a test never meets an id a previous one registered.
beforeEach(async () => {
  alice = await Identity.generate()
  bob = await Identity.generate()
  mallory = await Identity.generate()
})
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()))
})

async function attempt(parts: RegistrationParts, extra = ''): Promise<{ first: Record<string, unknown>; code: number }> {
  const client = await RawClient.open(socketUrl(server.url, parts, extra))
  sockets.push(client)
  const first = await client.next()
  const { code } = await client.closed
  return { first, code }
}

async function expectRefused(parts: RegistrationParts, reason: RefusalReason, extra = ''): Promise<void> {
  const { first, code } = await attempt(parts, extra)
  expect(first).toMatchObject({ type: reason === 'ID_TAKEN' ? 'ID-TAKEN' : 'ERROR', payload: { reason } })
  expect(code).toBe(CLOSE_CODES[reason])
}

describe('registration', () => {
  it('admits the key holder: OPEN, then P2P-WELCOME', async () => {
    const { client, welcome } = await joinRaw(server.url, alice)
    sockets.push(client)
    expect(welcome.payload).toMatchObject({ id: alice.id, net: NET_A })
  })

  it('refuses missing or repeated parameters (BAD_REQUEST)', async () => {
    const parts = await registrationParts(server.url, alice)
    const url = socketUrl(server.url, parts).replace(/&sig=[^&]*/, '')
    const client = await RawClient.open(url)
    sockets.push(client)
    expect(await client.next()).toMatchObject({ type: 'ERROR', payload: { reason: 'BAD_REQUEST' } })
    expect((await client.closed).code).toBe(CLOSE_CODES.BAD_REQUEST)
    // A second id after an honest registration: PeerJS would register the second one.
    await expectRefused(await registrationParts(server.url, alice), 'BAD_REQUEST', `&id=${mallory.id}`)
  })

  it("refuses someone else's id signed with my key (BAD_SIGNATURE)", async () => {
    const mine = await registrationParts(server.url, mallory)
    await expectRefused({ ...mine, id: alice.id, pub: alice.publicKey }, 'BAD_SIGNATURE')
  })

  it("refuses someone else's id with my key and my valid signature (ID_MISMATCH)", async () => {
    const mine = await registrationParts(server.url, mallory)
    await expectRefused({ ...mine, id: alice.id }, 'ID_MISMATCH')
  })

  it('refuses a signature made for another subnet (BAD_SIGNATURE)', async () => {
    const parts = await registrationParts(server.url, alice, NET_A)
    await expectRefused({ ...parts, net: NET_B }, 'BAD_SIGNATURE')
  })

  it('refuses a replayed nonce, even with a valid signature (STALE_NONCE)', async () => {
    const parts = await registrationParts(server.url, alice)
    const first = await RawClient.open(socketUrl(server.url, parts))
    sockets.push(first)
    expect(await first.next()).toMatchObject({ type: 'OPEN' })
    await first.close()
    await expectRefused(parts, 'STALE_NONCE')
  })

  it('refuses an expired or forged nonce (STALE_NONCE)', async () => {
    const parts = await registrationParts(server.url, alice)
    clock.advance(30_000)
    await expectRefused(parts, 'STALE_NONCE')
    const forged = await registrationParts(server.url, alice)
    const nonce = `${forged.nonce.slice(0, -2)}${forged.nonce.endsWith('AA') ? 'BA' : 'AA'}`
    const sig = await alice.sign(new TextEncoder().encode(`p2p-today-signaling|${nonce}|${alice.id}|${NET_A}`))
    await expectRefused({ ...forged, nonce, sig }, 'STALE_NONCE')
  })

  it('refuses a live id registered in another subnet (ID-TAKEN) and leaves the live session alone', async () => {
    const { client } = await joinRaw(server.url, alice, NET_A)
    sockets.push(client)
    await expectRefused(await registrationParts(server.url, alice, NET_B), 'ID_TAKEN')
    client.send({ type: 'P2P-DISCOVER' })
    expect(await client.next()).toMatchObject({ type: 'P2P-PEERS' })
  })

  it('failed attempts do not burn the nonce for its owner', async () => {
    const parts = await registrationParts(server.url, alice)
    await expectRefused({ ...parts, sig: (await registrationParts(server.url, mallory)).sig }, 'BAD_SIGNATURE')
    const client = await RawClient.open(socketUrl(server.url, parts))
    sockets.push(client)
    expect(await client.next()).toMatchObject({ type: 'OPEN' })
  })
})

async function join(identity: Identity): Promise<RawClient> {
  const { client } = await joinRaw(server.url, identity)
  sockets.push(client)
  return client
}

const offer = { type: 'offer', sdp: 'v=0' }

describe('takeover: a new registration with the key replaces the live session', () => {
  it('OPEN and P2P-WELCOME for the new socket, REPLACED for the old one, and signals follow the id', async () => {
    const old = await join(alice)
    const peer = await join(bob)
    const fresh = await join(alice)
    expect(await old.closed).toEqual({ code: CLOSE_REPLACED, reason: 'REPLACED' })
    peer.send({ type: 'OFFER', dst: alice.id, payload: offer })
    expect(await fresh.next()).toEqual({ type: 'OFFER', src: bob.id, dst: alice.id, payload: offer })
    fresh.send({ type: 'ANSWER', dst: bob.id, payload: { type: 'answer', sdp: 'v=0' } })
    expect(await peer.next()).toMatchObject({ type: 'ANSWER', src: alice.id })
  })

  it("the old socket's late close does not unregister the new session", async () => {
    const old = await join(alice)
    const peer = await join(bob)
    // The old client stops reading: its close handshake stalls until resume().
    old.socket.pause()
    const fresh = await join(alice)
    peer.send({ type: 'OFFER', dst: alice.id, payload: offer })
    expect(await fresh.next()).toMatchObject({ type: 'OFFER', src: bob.id })
    old.socket.resume()
    expect((await old.closed).code).toBe(CLOSE_REPLACED)
    // Round trips through the server after the old socket is gone: the id is still listed and reachable.
    for (let i = 0; i < 3; i++) {
      peer.send({ type: 'P2P-DISCOVER' })
      expect((await peer.nextOfType('P2P-PEERS')).payload).toMatchObject({ peers: expect.arrayContaining([alice.id]) as unknown })
      peer.send({ type: 'CANDIDATE', dst: alice.id, payload: { type: 'candidate', n: i } })
      expect(await fresh.next()).toMatchObject({ type: 'CANDIDATE', src: bob.id, payload: { n: i } })
    }
  })

  it('cannot take a live id without its key: refused, and the live session is untouched', async () => {
    const live = await join(alice)
    const mine = await registrationParts(server.url, mallory)
    await expectRefused({ ...mine, id: alice.id }, 'ID_MISMATCH')
    await expectRefused({ ...mine, id: alice.id, pub: alice.publicKey }, 'BAD_SIGNATURE')
    live.send({ type: 'P2P-DISCOVER' })
    expect(await live.next()).toMatchObject({ type: 'P2P-PEERS' })
    expect(live.socket.readyState).toBe(live.socket.OPEN)
  })
})
