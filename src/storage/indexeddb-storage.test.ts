import 'fake-indexeddb/auto'
import { promisifyRequest } from 'idb-keyval'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { storageContract } from '../testing/storage-contract.js'
import { INDEXEDDB_STORAGE, IndexedDbStorage, deleteIndexedDbStorage, indexedDbStorage, storageErrorOf } from './indexeddb-storage.js'

let n = 0
const unique = (): string => `test-${++n}-${Math.random().toString(36).slice(2, 8)}`

storageContract('IndexedDbStorage (fake-indexeddb)', () => indexedDbStorage(unique()), { fresh: indexedDbStorage, persistent: true })

describe('IndexedDbStorage', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('keeps a namespace in the database p2p-today:<namespace>, store records', async () => {
    const namespace = unique()
    const s = new IndexedDbStorage(namespace)
    expect(s.database).toBe(`p2p-today:${namespace}`)
    await s.writeBatch({ puts: [['k', 'v']] })
    await s.close()
    const db = await promisifyRequest(indexedDB.open(`${INDEXEDDB_STORAGE.databasePrefix}${namespace}`))
    expect([...db.objectStoreNames]).toEqual(['records'])
    expect(await promisifyRequest(db.transaction('records').objectStore('records').get('k'))).toBe('v')
    db.close()
  })

  it('passes the batch durability to db.transaction (relaxed unless strict is asked)', async () => {
    const s = new IndexedDbStorage(unique())
    await s.loadAll() // opened: fake-indexeddb's upgrade calls transaction() too
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction')
    await s.writeBatch({ puts: [['a', 1]], durability: 'strict' })
    await s.writeBatch({ puts: [['b', 1]] })
    await s.writeBatch({ deletes: ['a'], durability: 'relaxed' })
    expect(transaction.mock.calls).toEqual([
      ['records', 'readwrite', { durability: 'strict' }],
      ['records', 'readwrite', { durability: 'relaxed' }],
      ['records', 'readwrite', { durability: 'relaxed' }],
    ])
    await s.close()
  })

  it('writes one batch in one transaction, and loads with one read transaction', async () => {
    const s = new IndexedDbStorage(unique())
    await s.loadAll() // opened: fake-indexeddb's upgrade calls transaction() too
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction')
    await s.writeBatch({ puts: Array.from({ length: 500 }, (_, i): [string, number] => [`k${i}`, i]), deletes: ['x', 'y'] })
    expect(await s.loadAll()).toHaveLength(500)
    expect(transaction.mock.calls.map((c) => c[1])).toEqual(['readwrite', 'readonly'])
    await s.close()
  })

  it('a put refused for quota (QuotaExceededError) rejects STORAGE_QUOTA and writes nothing', async () => {
    const s = new IndexedDbStorage(unique())
    await s.writeBatch({ puts: [['keep', 1]] })
    const put = IDBObjectStore.prototype.put
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (key === 'big') throw new DOMException('An attempt was made to add something to storage that exceeded the quota.', 'QuotaExceededError')
      return put.call(this, value, key)
    })
    const err = await s.writeBatch({ puts: [['a', 1], ['big', 'x'], ['b', 1]] }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'STORAGE_QUOTA', cause: { name: 'QuotaExceededError' } })
    expect(await s.loadAll()).toEqual([['keep', 1]])
    await s.close()
  })

  it('a transaction aborted for quota at commit (as Chromium does) rejects STORAGE_QUOTA and writes nothing', async () => {
    const s = new IndexedDbStorage(unique())
    await s.writeBatch({ puts: [['keep', 1]] })
    const put = IDBObjectStore.prototype.put
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      const request = put.call(this, value, key)
      // The spec's "abort a transaction with error", which a browser runs when the commit does not
      // fit the quota; fake-indexeddb implements it as _abort(errorName). After the batch's calls.
      const tx = this.transaction as IDBTransaction & { _abort(name: string): void }
      if (key === 'big') queueMicrotask(() => tx._abort('QuotaExceededError'))
      return request
    })
    const err = await s.writeBatch({ puts: [['a', 1], ['big', 'x'], ['b', 1]] }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'STORAGE_QUOTA', cause: { name: 'QuotaExceededError' } })
    expect(await s.loadAll()).toEqual([['keep', 1]])
    await s.close()
  })

  it('maps errors: QuotaExceededError and an AbortError naming the quota to STORAGE_QUOTA, others to STORAGE_FAILED', () => {
    const quota = new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    expect(storageErrorOf(quota, 'w').code).toBe('STORAGE_QUOTA')
    expect(storageErrorOf(new DOMException('QuotaExceededError ', 'AbortError'), 'w').code).toBe('STORAGE_QUOTA')
    expect(storageErrorOf(Object.assign(new DOMException('Transaction aborted', 'AbortError'), { inner: quota }), 'w').code).toBe('STORAGE_QUOTA')
    const aborted = new DOMException('The transaction was aborted, so the request cannot be fulfilled.', 'AbortError')
    expect(storageErrorOf(aborted, 'w')).toMatchObject({ code: 'STORAGE_FAILED', cause: aborted })
    expect(storageErrorOf(new DOMException('x', 'UnknownError'), 'w').code).toBe('STORAGE_FAILED')
    expect(storageErrorOf(null, 'w').code).toBe('STORAGE_FAILED')
  })

  it('adds the records store to an existing database of the same name that lacks it', async () => {
    const namespace = unique()
    const request = indexedDB.open(`p2p-today:${namespace}`)
    request.onupgradeneeded = () => request.result.createObjectStore('something-else')
    ;(await promisifyRequest(request)).close()
    const s = new IndexedDbStorage(namespace)
    await s.writeBatch({ puts: [['k', 1]] })
    expect(await s.loadAll()).toEqual([['k', 1]])
    await s.close()
  })

  it('deleteIndexedDbStorage deletes the namespace, even with an adapter open; the adapter reopens empty', async () => {
    const namespace = unique()
    const s = new IndexedDbStorage(namespace)
    await s.writeBatch({ puts: [['k', 1]] })
    await deleteIndexedDbStorage(namespace)
    expect(await s.loadAll()).toEqual([])
    await s.writeBatch({ puts: [['k', 2]] })
    await s.close()
    expect(await new IndexedDbStorage(namespace).loadAll()).toEqual([['k', 2]])
  })

  it('without IndexedDB, calls reject STORAGE_FAILED (the factory itself does not throw)', async () => {
    vi.stubGlobal('indexedDB', undefined)
    try {
      const s = indexedDbStorage(unique())
      await expect(s.loadAll()).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
      await expect(s.writeBatch({ puts: [['k', 1]] })).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
      await s.close()
    } finally {
      vi.unstubAllGlobals()
    }
  })
})
