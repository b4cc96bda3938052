import { beforeAll, describe, expect, it } from 'vitest'
import { toBase64url } from '../src/transport/signaling/base64url.js'
import { registrationMessage } from '../src/transport/signaling/protocol.js'
import { Identity } from '../src/wire/identity.js'
import { authenticate, parseRegistration, type Registration } from './auth.js'
import { NonceIssuer } from './nonces.js'
import { FakeClock, NET_A, NET_B } from './testing.js'

let alice: Identity
let mallory: Identity
beforeAll(async () => {
  alice = await Identity.generate()
  mallory = await Identity.generate()
})

async function signed(identity: Identity, nonce: string, net = NET_A): Promise<Registration> {
  return {
    id: identity.id,
    token: 't',
    net,
    publicKey: identity.publicKey,
    nonce,
    signature: await identity.sign(registrationMessage(nonce, identity.id, net)),
  }
}

function query(reg: Registration, extra = ''): string {
  const p = new URLSearchParams({
    key: 'peerjs',
    id: reg.id,
    token: reg.token,
    net: reg.net,
    pub: toBase64url(reg.publicKey),
    nonce: reg.nonce,
    sig: toBase64url(reg.signature),
  })
  return `/peerjs?${p.toString()}${extra}`
}

describe('parseRegistration', () => {
  it('reads a well-formed registration', async () => {
    const reg = await signed(alice, 'n'.repeat(54))
    expect(parseRegistration(query(reg))).toEqual(reg)
  })

  it('refuses missing, repeated or malformed parameters', async () => {
    const reg = await signed(alice, 'n'.repeat(54))
    const good = query(reg)
    expect(parseRegistration(undefined)).toBeUndefined()
    expect(parseRegistration('/peerjs')).toBeUndefined()
    for (const name of ['key', 'id', 'token', 'net', 'pub', 'nonce', 'sig']) {
      expect(parseRegistration(good.replace(new RegExp(`([?&])${name}=[^&]*`), '$1x=1')), name).toBeUndefined()
    }
    // PeerJS registers the *last* id: a second id must not slip past a check of the first.
    expect(parseRegistration(`${good}&id=${mallory.id}`)).toBeUndefined()
    expect(parseRegistration(`${good}&token=other`)).toBeUndefined()
    expect(parseRegistration(good.replace('key=peerjs', 'key=other'))).toBeUndefined()
    expect(parseRegistration(query({ ...reg, id: 'not-base58!' }))).toBeUndefined()
    expect(parseRegistration(query({ ...reg, net: '0OIl' }))).toBeUndefined()
    expect(parseRegistration(query({ ...reg, token: 'has space' }))).toBeUndefined()
    expect(parseRegistration(query({ ...reg, publicKey: new Uint8Array(31) }))).toBeUndefined()
    expect(parseRegistration(query({ ...reg, signature: new Uint8Array(63) }))).toBeUndefined()
    expect(parseRegistration(query({ ...reg, nonce: 'n'.repeat(129) }))).toBeUndefined()
    expect(parseRegistration(good.replace(/pub=[^&]*/, 'pub=***'))).toBeUndefined()
    expect(parseRegistration(`${good}&pad=${'x'.repeat(2048)}`)).toBeUndefined()
  })
})

describe('authenticate', () => {
  it('admits an honest registration once', async () => {
    const nonces = new NonceIssuer({ ttlMs: 30_000, now: new FakeClock().read })
    const reg = await signed(alice, nonces.issue())
    expect(await authenticate(reg, nonces)).toBeUndefined()
    expect(await authenticate(reg, nonces)).toBe('STALE_NONCE')
  })

  it('refuses a stale or foreign nonce', async () => {
    const clock = new FakeClock()
    const nonces = new NonceIssuer({ ttlMs: 30_000, now: clock.read })
    const stale = await signed(alice, nonces.issue())
    clock.advance(30_000)
    expect(await authenticate(stale, nonces)).toBe('STALE_NONCE')
    const foreign = new NonceIssuer({ ttlMs: 30_000, now: clock.read })
    expect(await authenticate(await signed(alice, foreign.issue()), nonces)).toBe('STALE_NONCE')
  })

  it("refuses someone else's id: with their key but my signature, or my key", async () => {
    const nonces = new NonceIssuer({ ttlMs: 30_000, now: new FakeClock().read })
    const nonce = nonces.issue()
    const forged = await signed(mallory, nonce)
    // Alice's id and key, Mallory's signature.
    expect(await authenticate({ ...forged, id: alice.id, publicKey: alice.publicKey }, nonces)).toBe('BAD_SIGNATURE')
    // Alice's id, Mallory's key and a valid signature by it.
    const mine = await signed(mallory, nonce)
    expect(await authenticate({ ...mine, id: alice.id }, nonces)).toBe('ID_MISMATCH')
    // Neither attempt burned the nonce.
    expect(await authenticate(await signed(alice, nonce), nonces)).toBeUndefined()
  })

  it('binds the signature to the subnet', async () => {
    const nonces = new NonceIssuer({ ttlMs: 30_000, now: new FakeClock().read })
    const reg = await signed(alice, nonces.issue(), NET_A)
    expect(await authenticate({ ...reg, net: NET_B }, nonces)).toBe('BAD_SIGNATURE')
  })

  it('lets only one of two concurrent uses of a nonce through', async () => {
    const nonces = new NonceIssuer({ ttlMs: 30_000, now: new FakeClock().read })
    const reg = await signed(alice, nonces.issue())
    const results = await Promise.all([authenticate(reg, nonces), authenticate(reg, nonces)])
    expect(results.sort()).toEqual(['STALE_NONCE', undefined])
  })
})
