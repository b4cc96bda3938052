import { clear, entries, promisifyRequest } from 'idb-keyval'
import { StorageError } from '../errors.js'
import type { StorageAdapter, StorageBatch, StorageFactory } from './adapter.js'

/** Where IndexedDbStorage keeps a namespace: database `databasePrefix + namespace`, one object store. */
export const INDEXEDDB_STORAGE = {
  databasePrefix: 'p2p-today:',
  objectStore: 'records',
} as const

type Durability = NonNullable<StorageBatch['durability']>

/**
 * idb-keyval's `UseStore` (what `entries`, `clear` … take), plus the durability of a readwrite
 * transaction, which idb-keyval's own `createStore` cannot pass.
 */
type UseRecords = <T>(mode: IDBTransactionMode, callback: (store: IDBObjectStore) => T | PromiseLike<T>, durability?: Durability) => Promise<T>

/**
 * A StorageAdapter over IndexedDB (idb-keyval): one database per namespace, `p2p-today:<namespace>`,
 * holding one object store, `records`, keyed by the record keys. The database opens on the first
 * call, once; a connection another page closes (to delete or upgrade the database) or the browser
 * drops is reopened by the next call.
 *
 * `loadAll` is one `getAll`/`getAllKeys` read; `writeBatch` one readwrite transaction with the
 * batch's durability ('relaxed' unless 'strict' is asked). Errors: STORAGE_QUOTA when the browser
 * refuses for quota (QuotaExceededError, on a request or as the transaction's abort error),
 * STORAGE_FAILED for anything else (no IndexedDB, a value structured clone refuses, a failed
 * open; the DOMException is the `cause`), STORAGE_CLOSED after `close()`.
 */
export class IndexedDbStorage implements StorageAdapter {
  /** The IndexedDB database name: `INDEXEDDB_STORAGE.databasePrefix` + namespace. */
  readonly database: string
  #db: Promise<IDBDatabase> | undefined
  #closing: Promise<void> | undefined
  readonly #pending = new Set<Promise<void>>()

  constructor(namespace: string) {
    if (typeof namespace !== 'string') throw new TypeError('IndexedDbStorage: namespace must be a string')
    this.database = INDEXEDDB_STORAGE.databasePrefix + namespace
  }

  loadAll(): Promise<Array<[key: string, record: unknown]>> {
    return this.#run('load', () => entries<string, unknown>(this.#store))
  }

  writeBatch(batch: StorageBatch): Promise<void> {
    return this.#run('write', async () => {
      const puts = batch.puts ?? []
      const deletes = batch.deletes ?? []
      checkKeys(deletes)
      checkKeys(puts.map(([key]) => key))
      if (puts.length === 0 && deletes.length === 0) return
      await this.#store(
        'readwrite',
        (store) => {
          try {
            for (const key of deletes) store.delete(key)
            for (const [key, record] of puts) store.put(record, key)
          } catch (err: unknown) {
            // A put that throws (DataCloneError …) leaves the transaction alive: abort it, so
            // the puts before it are not committed.
            abortQuietly(store.transaction)
            throw err
          }
          // Committed now rather than when the requests' callbacks have run: a batch written as
          // the page is left (pagehide) is then kept even if the page is gone before they run.
          store.transaction.commit?.()
          return settled(store.transaction)
        },
        batch.durability ?? 'relaxed',
      )
    })
  }

  clear(): Promise<void> {
    return this.#run('clear', () => clear(this.#store))
  }

  /** Lets the calls already made finish, then closes the database connection (idempotent). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all(this.#pending)
      const db = this.#db
      this.#db = undefined
      if (db !== undefined) (await db.catch(() => undefined))?.close()
    })()
    return this.#closing
  }

  /** Runs one call: STORAGE_CLOSED once closing, errors mapped to StorageError, tracked for close(). */
  async #run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw new StorageError('STORAGE_CLOSED', `${this.database}: the storage adapter is closed`)
    const result = op()
    const done = result.then(noop, noop)
    this.#pending.add(done)
    void done.then(() => this.#pending.delete(done))
    try {
      return await result
    } catch (err: unknown) {
      throw storageErrorOf(err, `${this.database}: ${what} failed`)
    }
  }

  readonly #store: UseRecords = (mode, callback, durability = 'relaxed') =>
    this.#connection().then((db) => {
      const options = mode === 'readwrite' ? { durability } : undefined
      return callback(db.transaction(INDEXEDDB_STORAGE.objectStore, mode, options).objectStore(INDEXEDDB_STORAGE.objectStore))
    })

  #connection(): Promise<IDBDatabase> {
    if (this.#db !== undefined) return this.#db
    const opening = openDatabase(this.database).then((db) => {
      // Another page wants to delete or upgrade the database, or the browser dropped the
      // connection: let go, and reopen on the next call.
      const forget = (): void => {
        if (this.#db === opening) this.#db = undefined
      }
      db.onversionchange = () => {
        db.close()
        forget()
      }
      db.onclose = forget
      return db
    })
    opening.catch(() => {
      if (this.#db === opening) this.#db = undefined
    })
    this.#db = opening
    return opening
  }
}

/** The StorageFactory for IndexedDB: namespace → `new IndexedDbStorage(namespace)`. */
export const indexedDbStorage: StorageFactory = (namespace) => new IndexedDbStorage(namespace)

/**
 * Deletes a namespace's database (tests; an application's "forget this data"). Open adapters of
 * the namespace let go of their connection first; their next call starts an empty database.
 */
export async function deleteIndexedDbStorage(namespace: string): Promise<void> {
  try {
    await promisifyRequest(factory().deleteDatabase(INDEXEDDB_STORAGE.databasePrefix + namespace))
  } catch (err: unknown) {
    throw storageErrorOf(err, `deleting ${INDEXEDDB_STORAGE.databasePrefix + namespace} failed`)
  }
}

/**
 * The StorageError for what IndexedDB threw or aborted with. Quota shows as a QuotaExceededError
 * (a request's, or the aborted transaction's `error`; Chromium aborts at commit), or as an
 * AbortError whose message or `cause` names the quota (as some wrappers and older browsers report it).
 */
export function storageErrorOf(err: unknown, message: string): StorageError {
  if (err instanceof StorageError) return err
  const detail = errorName(err) ?? String(err)
  const code = isQuota(err) ? 'STORAGE_QUOTA' : 'STORAGE_FAILED'
  return new StorageError(code, `${message}: ${detail}`, { cause: err })
}

function isQuota(err: unknown): boolean {
  const name = errorName(err)
  if (name === 'QuotaExceededError') return true
  if (name !== 'AbortError') return false
  const { message, cause, inner } = err as { message?: unknown; cause?: unknown; inner?: unknown }
  return (typeof message === 'string' && /quota/i.test(message)) || errorName(cause) === 'QuotaExceededError' || errorName(inner) === 'QuotaExceededError'
}

function errorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null | undefined)?.name
  return typeof name === 'string' ? name : undefined
}

function factory(): IDBFactory {
  if (typeof indexedDB === 'undefined') throw new StorageError('STORAGE_FAILED', 'IndexedDB is unavailable here')
  return indexedDB
}

/** Opens the database with its object store, creating (or, when a foreign database lacks it, adding) the store. */
async function openDatabase(name: string): Promise<IDBDatabase> {
  const open = (version?: number): Promise<IDBDatabase> => {
    const request = version === undefined ? factory().open(name) : factory().open(name, version)
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(INDEXEDDB_STORAGE.objectStore)) request.result.createObjectStore(INDEXEDDB_STORAGE.objectStore)
    }
    return promisifyRequest(request)
  }
  const db = await open()
  if (db.objectStoreNames.contains(INDEXEDDB_STORAGE.objectStore)) return db
  db.close()
  return open(db.version + 1)
}

/**
 * Resolves when the transaction commits; rejects with its abort error (QuotaExceededError …).
 * Request `error` events that bubble here are not the end: the abort that follows is.
 */
function settled(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError'))
  })
}

function abortQuietly(tx: IDBTransaction): void {
  try {
    tx.abort()
  } catch {
    // Already finished or aborted.
  }
}

function checkKeys(keys: readonly unknown[]): void {
  for (const key of keys) {
    if (typeof key !== 'string') throw new StorageError('STORAGE_FAILED', `storage keys are strings, got ${typeof key}`)
  }
}

function noop(): void {}
