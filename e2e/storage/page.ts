import { IndexedDbStorage } from '../../src/storage/indexeddb-storage.js'
import { applicableCases, runStorageCase } from '../../src/testing/storage-cases.js'
import type { StorageFixture } from '../../src/testing/storage-cases.js'
import { timeStorage } from '../../src/testing/storage-bench.js'
import type { StorageTimings } from '../../src/testing/storage-bench.js'

// The StorageAdapter contract (src/testing/storage-cases.ts, the cases vitest runs on
// fake-indexeddb) against Chromium's own IndexedDB, and the timings of src/testing/storage-bench.ts.
const unique = (): string => `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`
const fixture: StorageFixture = {
  make: async () => new IndexedDbStorage(unique()),
  fresh: async (namespace) => new IndexedDbStorage(namespace),
  persistent: true,
}

export interface StorageContractPage {
  cases(): string[]
  /** Runs one case; resolves to undefined when it passes, else the failure's message. */
  run(name: string): Promise<string | undefined>
  time(options?: { bulk?: number; keys?: number; rounds?: number }): Promise<StorageTimings>
}

const api: StorageContractPage = {
  cases: () => applicableCases({ namespaces: true, persistent: true }),
  run: async (name) => {
    try {
      await runStorageCase(name, fixture)
      return undefined
    } catch (err: unknown) {
      return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    }
  },
  time: (options) => timeStorage((namespace) => new IndexedDbStorage(namespace), options),
}
;(window as unknown as { storageContract: StorageContractPage }).storageContract = api
document.querySelector('[data-testid="state"]')!.textContent = 'ready'
