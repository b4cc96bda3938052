import { describe, expect, it } from 'vitest'
import { StorageError } from '../errors.js'
import { storageContract } from '../testing/storage-contract.js'
import { MemoryStorage } from './memory-storage.js'

storageContract('MemoryStorage', () => new MemoryStorage(), { fresh: () => new MemoryStorage(), persistent: false })

describe('MemoryStorage', () => {
  it('failWith: the returned error rejects the batch and nothing is written; undefined lets it through', async () => {
    let failure: StorageError | undefined = new StorageError('STORAGE_QUOTA', 'full')
    const s = new MemoryStorage({ failWith: () => failure })
    await expect(s.writeBatch({ puts: [['a', 1]] })).rejects.toMatchObject({ code: 'STORAGE_QUOTA' })
    expect(await s.loadAll()).toEqual([])
    failure = undefined
    await s.writeBatch({ puts: [['a', 1]] })
    expect(await s.loadAll()).toEqual([['a', 1]])
  })

  it('a class instance comes back as a plain object (structured clone), as from IndexedDB', async () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const s = new MemoryStorage()
    await s.writeBatch({ puts: [['p', new Point(1)]] })
    const [[, p]] = (await s.loadAll()) as [[string, unknown]]
    expect(p).toEqual({ x: 1 })
    expect(p).not.toBeInstanceOf(Point)
  })
})
