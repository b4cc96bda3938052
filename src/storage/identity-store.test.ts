import 'fake-indexeddb/auto'
import { createStore, get, set } from 'idb-keyval'
import type { UseStore } from 'idb-keyval'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Identity, verifySignature } from '../wire/identity.js'
import { IDENTITY_STORE_DEFAULTS, loadIdentity } from './identity-store.js'

let stores = 0
/** A store of its own (its own database) and a subnet of its own, so tests share nothing. */
function fresh(): { store: UseStore; subnet: string } {
  stores++
  return { store: createStore(`identity-test-${stores}`, 'keys'), subnet: `subnet-${stores}` }
}

const keyOf = (subnet: string, slot: number) => ['p2p-today/identity', subnet, slot]
const data = new TextEncoder().encode('signed by a stored identity')

/** Wraps a store so that `put` throws what a platform that cannot clone a CryptoKey throws. */
function noCryptoKeyClone(inner: UseStore): UseStore {
  return (mode, callback) =>
    inner(mode, (store) => {
      const put = store.put.bind(store)
      store.put = (value: unknown, key?: IDBValidKey) => {
        if (typeof value === 'object' && value !== null && 'privateKey' in value) throw new DOMException('CryptoKey', 'DataCloneError')
        return put(value, key)
      }
      return callback(store)
    })
}

/** A LockManager with `ifAvailable` only, as far as loadIdentity uses it. */
class FakeLocks {
  readonly held = new Set<string>()
  /** The request of each lock granted, in order: it settles when the lock is let go. */
  readonly granted: Promise<unknown>[] = []
  request(name: string, _options: LockOptions, callback: (lock: Lock | null) => unknown): Promise<unknown> {
    if (this.held.has(name)) return Promise.resolve(callback(null))
    this.held.add(name)
    const request = Promise.resolve(callback({ name, mode: 'exclusive' })).finally(() => this.held.delete(name))
    this.granted.push(request)
    return request
  }
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('loadIdentity', () => {
  it('keeps the id across a release and a new load (a reload)', async () => {
    const { store, subnet } = fresh()
    const first = await loadIdentity({ subnet, store })
    expect(first).toMatchObject({ slot: 0, created: true, replaced: false })
    first.release()
    const second = await loadIdentity({ subnet, store })
    expect(second).toMatchObject({ slot: 0, created: false, replaced: false })
    expect(second.identity.id).toBe(first.identity.id)
    expect(await verifySignature(first.identity.publicKey, data, await second.identity.sign(data))).toBe(true)
    second.release()
  })

  it('gives concurrent holders different slots and ids', async () => {
    const { store, subnet } = fresh()
    const [a, b] = await Promise.all([loadIdentity({ subnet, store }), loadIdentity({ subnet, store })])
    expect(new Set([a.slot, b.slot])).toEqual(new Set([0, 1]))
    expect(a.identity.id).not.toBe(b.identity.id)
    const zero = a.slot === 0 ? a : b
    zero.release()
    const again = await loadIdentity({ subnet, store })
    expect(again.slot).toBe(0)
    expect(again.identity.id).toBe(zero.identity.id)
    a.release()
    b.release()
    again.release()
  })

  it('release() is idempotent: a second call does not free the next holder’s slot', async () => {
    const { store, subnet } = fresh()
    const a = await loadIdentity({ subnet, store })
    a.release()
    const b = await loadIdentity({ subnet, store })
    a.release()
    const c = await loadIdentity({ subnet, store })
    expect([b.slot, c.slot]).toEqual([0, 1])
    b.release()
    c.release()
  })

  it('keeps one key pair per subnet', async () => {
    const { store, subnet } = fresh()
    const a = await loadIdentity({ subnet: `${subnet}-a`, store })
    const b = await loadIdentity({ subnet: `${subnet}-b`, store })
    expect([a.slot, b.slot]).toEqual([0, 0])
    expect(a.identity.id).not.toBe(b.identity.id)
    a.release()
    b.release()
    expect((await loadIdentity({ subnet: `${subnet}-b`, store })).identity.id).toBe(b.identity.id)
  })

  it('stores a non-extractable CryptoKey with the WebCrypto backend, the seed with noble', async () => {
    const { store, subnet } = fresh()
    const web = await loadIdentity({ subnet: `${subnet}-web`, store })
    const noble = await loadIdentity({ subnet: `${subnet}-noble`, store, backend: 'noble' })
    expect(web.identity.backend).toBe('webcrypto')
    expect(noble.identity.backend).toBe('noble')
    const webRecord = await get(keyOf(`${subnet}-web`, 0), store)
    expect(webRecord).toMatchObject({ v: 1, kind: 'cryptokey', publicKey: web.identity.publicKey })
    expect(webRecord.privateKey).toMatchObject({ type: 'private', extractable: false })
    await expect(web.identity.exportKeyPair()).rejects.toMatchObject({ code: 'KEY_NOT_EXTRACTABLE' })
    expect(await get(keyOf(`${subnet}-noble`, 0), store)).toEqual({ v: 1, kind: 'seed', ...(await noble.identity.exportKeyPair()) })
    web.release()
    noble.release()
  })

  it('stores the seed where the store cannot clone a CryptoKey', async () => {
    const { store, subnet } = fresh()
    const first = await loadIdentity({ subnet, store: noCryptoKeyClone(store) })
    expect(first.identity.backend).toBe('webcrypto')
    expect(await get(keyOf(subnet, 0), store)).toMatchObject({ v: 1, kind: 'seed', publicKey: first.identity.publicKey })
    first.release()
    const second = await loadIdentity({ subnet, store: noCryptoKeyClone(store) })
    expect(second).toMatchObject({ created: false })
    expect(second.identity.id).toBe(first.identity.id)
    second.release()
  })

  it('replaces a malformed or corrupt entry, and says so', async () => {
    const { store, subnet } = fresh()
    const other = await (await Identity.generate({ backend: 'noble' })).exportKeyPair()
    const mine = await (await Identity.generate({ backend: 'noble' })).exportKeyPair()
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
    const corrupt: unknown[] = [
      'junk',
      null,
      { v: 2, kind: 'seed', ...mine },
      { v: 1, kind: 'seed', publicKey: mine.publicKey, secretKey: new Uint8Array(5) },
      { v: 1, kind: 'seed', publicKey: other.publicKey, secretKey: mine.secretKey },
      { v: 1, kind: 'cryptokey', publicKey: other.publicKey, privateKey: pair.privateKey },
      { v: 1, kind: 'cryptokey', publicKey: mine.publicKey, privateKey: pair.publicKey },
      { v: 1, kind: 'cryptokey', publicKey: mine.publicKey, privateKey: 'not a key' },
    ]
    for (const entry of corrupt) {
      await set(keyOf(subnet, 0), entry, store)
      const replaced = await loadIdentity({ subnet, store })
      expect(replaced).toMatchObject({ slot: 0, created: true, replaced: true })
      replaced.release()
      const kept = await loadIdentity({ subnet, store })
      expect(kept).toMatchObject({ created: false, replaced: false })
      expect(kept.identity.id).toBe(replaced.identity.id)
      kept.release()
    }
  })

  it('uses a valid entry it did not write (a seed, on either backend)', async () => {
    const { store, subnet } = fresh()
    const identity = await Identity.generate({ backend: 'noble' })
    await set(keyOf(subnet, 0), { v: 1, kind: 'seed', ...(await identity.exportKeyPair()) }, store)
    const loaded = await loadIdentity({ subnet, store })
    expect(loaded).toMatchObject({ created: false, replaced: false })
    expect(loaded.identity.id).toBe(identity.id)
    loaded.release()
  })

  it('fails with STORAGE_UNAVAILABLE when IndexedDB fails, and frees the slot', async () => {
    const { subnet } = fresh()
    const rejecting: UseStore = () => Promise.reject(new DOMException('private mode', 'InvalidStateError'))
    const throwing: UseStore = () => {
      throw new DOMException('no IndexedDB', 'SecurityError')
    }
    await expect(loadIdentity({ subnet, store: rejecting })).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
    await expect(loadIdentity({ subnet, store: throwing })).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
    vi.stubGlobal('indexedDB', undefined)
    await expect(loadIdentity({ subnet, store: createStore('no-idb', 'keys') })).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
    vi.unstubAllGlobals()
    const ok = await loadIdentity({ subnet, store: fresh().store })
    expect(ok.slot).toBe(0)
    ok.release()
  })

  it('fails with NO_FREE_SLOT past maxSlots', async () => {
    const { store, subnet } = fresh()
    const holders = [await loadIdentity({ subnet, store, maxSlots: 2 }), await loadIdentity({ subnet, store, maxSlots: 2 })]
    await expect(loadIdentity({ subnet, store, maxSlots: 2 })).rejects.toMatchObject({ code: 'NO_FREE_SLOT' })
    holders[1]?.release()
    const third = await loadIdentity({ subnet, store, maxSlots: 2 })
    expect(third.identity.id).toBe(holders[1]?.identity.id)
    for (const holder of [...holders, third]) holder.release()
  })

  it('uses the default store when none is given', async () => {
    const { subnet } = fresh()
    const loaded = await loadIdentity({ subnet })
    const defaults = createStore(IDENTITY_STORE_DEFAULTS.database, IDENTITY_STORE_DEFAULTS.objectStore)
    expect(await get(keyOf(subnet, 0), defaults)).toMatchObject({ publicKey: loaded.identity.publicKey })
    loaded.release()
  })

  it('keeps key pairs in the store it is given', async () => {
    const a = fresh()
    const b = fresh().store
    const inA = await loadIdentity({ subnet: a.subnet, store: a.store })
    inA.release()
    const inB = await loadIdentity({ subnet: a.subnet, store: b })
    expect(inB).toMatchObject({ slot: 0, created: true })
    expect(inB.identity.id).not.toBe(inA.identity.id)
    const defaults = createStore(IDENTITY_STORE_DEFAULTS.database, IDENTITY_STORE_DEFAULTS.objectStore)
    expect(await get(keyOf(a.subnet, 0), defaults)).toBeUndefined()
    inB.release()
  })

  it('claims slots with Web Locks where the platform has them, held until release()', async () => {
    const locks = new FakeLocks()
    vi.stubGlobal('navigator', { locks })
    const { store, subnet } = fresh()
    const a = await loadIdentity({ subnet, store })
    const b = await loadIdentity({ subnet, store })
    expect([a.slot, b.slot]).toEqual([0, 1])
    expect(locks.held.size).toBe(2)
    a.release()
    await locks.granted[0]
    expect(locks.held.size).toBe(1)
    const c = await loadIdentity({ subnet, store })
    expect(c.slot).toBe(0)
    expect(c.identity.id).toBe(a.identity.id)
    b.release()
    c.release()
  })

  it('maps a Web Locks failure (opaque origin) to STORAGE_UNAVAILABLE', async () => {
    vi.stubGlobal('navigator', { locks: { request: () => Promise.reject(new DOMException('opaque origin', 'SecurityError')) } })
    await expect(loadIdentity(fresh())).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
  })

  it('refuses bad arguments', async () => {
    await expect(loadIdentity({ subnet: 5 as unknown as string })).rejects.toBeInstanceOf(TypeError)
    await expect(loadIdentity({ subnet: 'x', maxSlots: 0 })).rejects.toBeInstanceOf(RangeError)
  })
})
