import { describe, it } from 'vitest'
import type { StorageAdapter } from '../storage/adapter.js'
import { applicableCases, runStorageCase } from './storage-cases.js'
import type { StorageFixture } from './storage-cases.js'

/**
 * The StorageAdapter contract suite (automerge-repo's storage adapter tests): declares one vitest
 * case per entry of STORAGE_CASES (src/testing/storage-cases.ts, which the real-Chromium page runs
 * too). Cases an implementation cannot have are not declared: namespace isolation needs `fresh`,
 * reopening needs `fresh` and `persistent`.
 */
export interface StorageContractOptions {
  /** An adapter of `namespace`, when the implementation has namespaces (a fresh name per case is the suite's job). */
  fresh?: (namespace: string) => Promise<StorageAdapter> | StorageAdapter
  /** Records outlive close() (default false). */
  persistent?: boolean
  /** Per case (default 30 000 ms: 10,000 records through fake-indexeddb take a few seconds). */
  timeoutMs?: number
}

export function storageContract(name: string, make: () => Promise<StorageAdapter> | StorageAdapter, options: StorageContractOptions = {}): void {
  const { fresh } = options
  const fixture: StorageFixture = {
    make: async () => make(),
    fresh: fresh === undefined ? undefined : async (namespace) => fresh(namespace),
    persistent: options.persistent ?? false,
  }
  describe(`${name}: StorageAdapter contract`, () => {
    for (const caseName of applicableCases({ namespaces: fresh !== undefined, persistent: fixture.persistent })) {
      it(caseName, () => runStorageCase(caseName, fixture), options.timeoutMs ?? 30_000)
    }
  })
}
