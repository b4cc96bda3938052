import { createStore, get, set } from 'idb-keyval'
import type { UseStore } from 'idb-keyval'
import { IdentityError, hasCode } from '../errors.js'
import { Identity, webCryptoHasEd25519 } from '../wire/identity.js'
import type { CryptoBackend } from '../wire/identity.js'

/** Defaults of `loadIdentity()`. */
export const IDENTITY_STORE_DEFAULTS = {
  /** Slots per subnet: how many pages (tabs, workers) of one origin can hold an id at once. */
  maxSlots: 64,
  /** The IndexedDB database and object store used when no `store` is given. */
  database: 'p2p-today-identity',
  objectStore: 'keys',
} as const

export interface LoadIdentityOptions {
  /** The subnet the identity is for; each subnet has its own key pairs. */
  subnet: string
  /** An idb-keyval `createStore(db, store)` to keep the key pairs in (default: IDENTITY_STORE_DEFAULTS). */
  store?: UseStore
  /** Backend for a new identity (default 'auto'); a stored WebCrypto key stays on WebCrypto. */
  backend?: CryptoBackend | 'auto'
  /** Slots to try before NO_FREE_SLOT (default 64; 1 allows one holder per subnet and origin). */
  maxSlots?: number
}

/** A persistent identity, held until `release()`. */
export interface StoredIdentity {
  readonly identity: Identity
  /** The slot this holder claimed: 0 unless other holders of the subnet were live. */
  readonly slot: number
  /** True when the slot had no usable key pair and a new one was made and stored. */
  readonly created: boolean
  /** True when the slot held a malformed or corrupt entry, now replaced by the new key pair. */
  readonly replaced: boolean
  /** Frees the slot for another holder (idempotent). The key pair stays stored. */
  release(): void
}

/**
 * The stored entry, key ['p2p-today/identity', subnet, slot]. A non-extractable WebCrypto key
 * where the platform can store one, else the 32-byte RFC 8032 seed.
 */
type IdentityRecord =
  | { v: 1; kind: 'cryptokey'; publicKey: Uint8Array; privateKey: CryptoKey }
  | { v: 1; kind: 'seed'; publicKey: Uint8Array; secretKey: Uint8Array }

type Release = () => void

const ED25519 = { name: 'Ed25519' } as const
const heldInProcess = new Set<string>()
let defaultStore: UseStore | undefined

/**
 * Loads this page's identity for `subnet` from IndexedDB, or makes and stores one. Claims the
 * first free slot (Web Locks where the platform has them, else a registry in this JS realm), so
 * two live pages of one origin never share an id; a reload gets slot 0, and its id, back.
 *
 * Throws IdentityError: STORAGE_UNAVAILABLE (IndexedDB missing or failing, e.g. private mode:
 * fall back to `Identity.generate()`), NO_FREE_SLOT (`maxSlots` holders live), CRYPTO_UNAVAILABLE
 * (the stored key needs WebCrypto Ed25519, which this platform lacks; the entry is kept).
 */
export async function loadIdentity(options: LoadIdentityOptions): Promise<StoredIdentity> {
  const { subnet, backend = 'auto', maxSlots = IDENTITY_STORE_DEFAULTS.maxSlots } = options
  if (typeof subnet !== 'string') throw new TypeError('loadIdentity: subnet must be a string')
  if (!Number.isInteger(maxSlots) || maxSlots < 1) throw new RangeError('loadIdentity: maxSlots must be an integer >= 1')
  const { slot, release } = await claimSlot(subnet, maxSlots)
  try {
    const store = options.store ?? (defaultStore ??= createStore(IDENTITY_STORE_DEFAULTS.database, IDENTITY_STORE_DEFAULTS.objectStore))
    const loaded = await loadOrCreate(store, ['p2p-today/identity', subnet, slot], backend)
    let held = true
    const releaseOnce = () => {
      if (held) release()
      held = false
    }
    return { ...loaded, slot, release: releaseOnce }
  } catch (err: unknown) {
    release()
    throw err
  }
}

async function claimSlot(subnet: string, maxSlots: number): Promise<{ slot: number; release: Release }> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  for (let slot = 0; slot < maxSlots; slot++) {
    const name = `p2p-today/identity ${JSON.stringify([subnet, slot])}`
    const release = locks === undefined ? claimInProcess(name) : await storage(() => claimWebLock(locks, name))
    if (release !== undefined) return { slot, release }
  }
  throw new IdentityError('NO_FREE_SLOT', `all ${maxSlots} identity slots of subnet ${JSON.stringify(subnet)} are held`)
}

function claimInProcess(name: string): Release | undefined {
  if (heldInProcess.has(name)) return undefined
  heldInProcess.add(name)
  return () => heldInProcess.delete(name)
}

/**
 * Takes the lock if it is free, and holds it until the returned function is called. Rejects in
 * opaque origins (SecurityError), where IndexedDB is unavailable too.
 */
function claimWebLock(locks: LockManager, name: string): Promise<Release | undefined> {
  return new Promise((resolve, reject) => {
    locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (lock === null) return resolve(undefined)
        return new Promise<void>((unlock) => resolve(() => unlock()))
      })
      .catch(reject)
  })
}

type Loaded = { identity: Identity; created: boolean; replaced: boolean }

async function loadOrCreate(store: UseStore, key: IDBValidKey, backend: CryptoBackend | 'auto'): Promise<Loaded> {
  const stored = await storage(() => get<unknown>(key, store))
  if (stored !== undefined) {
    const identity = await restore(stored, backend)
    if (identity !== undefined) return { identity, created: false, replaced: false }
  }
  return { identity: await create(store, key, backend), created: true, replaced: stored !== undefined }
}

/** The stored identity, or undefined when the entry is malformed or its halves do not match. */
async function restore(value: unknown, backend: CryptoBackend | 'auto'): Promise<Identity | undefined> {
  if (typeof value !== 'object' || value === null) return undefined
  const record = value as Partial<Record<string, unknown>>
  if (record.v !== 1 || !(record.publicKey instanceof Uint8Array)) return undefined
  try {
    if (record.kind === 'cryptokey') return await Identity.fromCryptoKey(record.publicKey, record.privateKey as CryptoKey)
    if (record.kind === 'seed') return await Identity.fromKeyPair({ publicKey: record.publicKey, secretKey: record.secretKey as Uint8Array }, { backend })
  } catch (err: unknown) {
    if (!hasCode(err, 'INVALID_KEY')) throw err
  }
  return undefined
}

/** A new key pair, stored: a non-extractable CryptoKey if the store can clone one, else the seed. */
async function create(store: UseStore, key: IDBValidKey, backend: CryptoBackend | 'auto'): Promise<Identity> {
  if (backend !== 'noble' && (await webCryptoHasEd25519())) {
    const pair = (await crypto.subtle.generateKey(ED25519, false, ['sign', 'verify'])) as CryptoKeyPair
    const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
    const record: IdentityRecord = { v: 1, kind: 'cryptokey', publicKey, privateKey: pair.privateKey }
    const identity = await Identity.fromCryptoKey(publicKey, pair.privateKey)
    try {
      await set(key, record, store)
      return identity
    } catch (err: unknown) {
      if ((err as { name?: unknown } | null)?.name !== 'DataCloneError') throw storageError(err)
    }
  }
  const identity = await Identity.generate({ backend })
  const record: IdentityRecord = { v: 1, kind: 'seed', ...(await identity.exportKeyPair()) }
  await storage(() => set(key, record, store))
  return identity
}

async function storage<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (err: unknown) {
    throw storageError(err)
  }
}

function storageError(err: unknown): IdentityError {
  return new IdentityError('STORAGE_UNAVAILABLE', `identity storage (IndexedDB, Web Locks) is unavailable: ${String(err)}`, { cause: err })
}
