import { describe, expect, it } from 'vitest'
import { Identity, b58decode, nodeIdFromPublicKey, verifySignature, webCryptoHasEd25519 } from './index.js'

const data = new TextEncoder().encode('a message to sign')

describe.each(['webcrypto', 'noble'] as const)('Identity (%s backend)', (backend) => {
  it('node id is base58(int(sha384(public key)))', async () => {
    const identity = await Identity.generate({ backend })
    expect(identity.backend).toBe(backend)
    expect(identity.publicKey).toHaveLength(32)
    expect(identity.id).toBe(nodeIdFromPublicKey(identity.publicKey))
    expect(b58decode(identity.id) < 1n << 384n).toBe(true)
  })

  it('signs, and signatures verify on both backends', async () => {
    const identity = await Identity.generate({ backend })
    const sig = await identity.sign(data)
    expect(sig).toHaveLength(64)
    expect(await verifySignature(identity.publicKey, data, sig, 'webcrypto')).toBe(true)
    expect(await verifySignature(identity.publicKey, data, sig, 'noble')).toBe(true)
    const tampered = sig.slice()
    tampered[10]! ^= 1
    expect(await verifySignature(identity.publicKey, data, tampered, backend)).toBe(false)
    expect(await verifySignature(identity.publicKey, new Uint8Array([1]), sig, backend)).toBe(false)
  })

  it('exports and imports the key pair, across backends', async () => {
    const identity = await Identity.generate({ backend })
    const pair = await identity.exportKeyPair()
    expect(pair.secretKey).toHaveLength(32)
    for (const other of ['webcrypto', 'noble'] as const) {
      const restored = await Identity.fromKeyPair(pair, { backend: other })
      expect(restored.id).toBe(identity.id)
      expect(await verifySignature(identity.publicKey, data, await restored.sign(data))).toBe(true)
    }
  })

  it('refuses mismatched or malformed key pairs', async () => {
    const a = await (await Identity.generate({ backend })).exportKeyPair()
    const b = await (await Identity.generate({ backend })).exportKeyPair()
    await expect(Identity.fromKeyPair({ publicKey: a.publicKey, secretKey: b.secretKey }, { backend })).rejects.toMatchObject({
      code: 'INVALID_KEY',
    })
    await expect(Identity.fromKeyPair({ publicKey: a.publicKey, secretKey: new Uint8Array(5) }, { backend })).rejects.toMatchObject({
      code: 'INVALID_KEY',
    })
    await expect(Identity.fromKeyPair(null as unknown as never, { backend })).rejects.toMatchObject({ code: 'INVALID_KEY' })
  })
})

describe('identity details', () => {
  it('WebCrypto Ed25519 is available in Node 20 (the auto backend uses it)', async () => {
    expect(await webCryptoHasEd25519()).toBe(true)
    expect((await Identity.generate()).backend).toBe('webcrypto')
  })

  it('non-extractable WebCrypto identities refuse to export', async () => {
    const identity = await Identity.generate({ backend: 'webcrypto', extractable: false })
    await expect(identity.exportKeyPair()).rejects.toMatchObject({ code: 'KEY_NOT_EXTRACTABLE' })
  })

  it('verifySignature never throws on hostile input', async () => {
    const junk = [new Uint8Array(0), new Uint8Array(32).fill(0xff), new Uint8Array(64), 'x' as unknown as Uint8Array]
    for (const key of junk) for (const sig of junk) expect(await verifySignature(key, data, sig)).toBe(false)
    expect(await verifySignature(new Uint8Array(32).fill(0xff), data, new Uint8Array(64).fill(1), 'noble')).toBe(false)
  })
})

describe('Identity.fromCryptoKey', () => {
  const generate = async () => (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
  const raw = async (key: CryptoKey) => new Uint8Array(await crypto.subtle.exportKey('raw', key))

  it('wraps a non-extractable WebCrypto key pair', async () => {
    const pair = await generate()
    const publicKey = await raw(pair.publicKey)
    const identity = await Identity.fromCryptoKey(publicKey, pair.privateKey)
    expect(identity.backend).toBe('webcrypto')
    expect(identity.id).toBe(nodeIdFromPublicKey(publicKey))
    expect(await verifySignature(publicKey, data, await identity.sign(data), 'noble')).toBe(true)
    await expect(identity.exportKeyPair()).rejects.toMatchObject({ code: 'KEY_NOT_EXTRACTABLE' })
  })

  it('refuses a key that does not sign for the public key', async () => {
    const a = await generate()
    const b = await generate()
    const ecdsa = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair
    const publicKey = await raw(a.publicKey)
    const refused: [Uint8Array, unknown][] = [
      [publicKey, b.privateKey],
      [publicKey, a.publicKey],
      [publicKey, ecdsa.privateKey],
      [publicKey, null],
      [publicKey, { type: 'private' }],
      [publicKey.slice(1), a.privateKey],
      ['x' as unknown as Uint8Array, a.privateKey],
    ]
    for (const [pub, key] of refused) {
      await expect(Identity.fromCryptoKey(pub, key as CryptoKey)).rejects.toMatchObject({ code: 'INVALID_KEY' })
    }
  })
})
