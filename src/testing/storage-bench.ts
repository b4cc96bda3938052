import type { StorageAdapter } from '../storage/adapter.js'
import { records } from './storage-cases.js'

/**
 * Times a StorageAdapter (no assertions: numbers for docs and reports). Runs in Node (fake-indexeddb)
 * and in the real-Chromium page (e2e/storage/), same code. `make(namespace)` opens a fresh adapter.
 * Milliseconds, median of `rounds` (after one warm-up write).
 */
export interface StorageTimings {
  /** writeBatch of `bulk` records (~100-byte values) in one call, per durability. */
  writeBulk: { relaxed: number; strict: number }
  /** loadAll of those `bulk` records. */
  loadBulk: number
  /** `keys` records: one batch, vs one writeBatch (one transaction) per key, awaited one by one or all issued at once. */
  perKey: { oneBatch: Record<'relaxed' | 'strict', number>; sequential: Record<'relaxed' | 'strict', number>; concurrent: number }
  bulk: number
  keys: number
  rounds: number
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

export async function timeStorage(make: (namespace: string) => Promise<StorageAdapter> | StorageAdapter, options: { bulk?: number; keys?: number; rounds?: number } = {}): Promise<StorageTimings> {
  const { bulk = 10_000, keys = 1_000, rounds = 5 } = options
  const run = `bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  let made = 0
  const timed = async (fn: (s: StorageAdapter) => Promise<unknown>, setup?: (s: StorageAdapter) => Promise<unknown>): Promise<number> => {
    const s = await make(`${run}-${made++}`)
    try {
      await s.loadAll() // opened before the clock starts
      await setup?.(s)
      const t0 = performance.now()
      await fn(s)
      return performance.now() - t0
    } finally {
      await s.clear().catch(() => undefined)
      await s.close()
    }
  }
  const big = records(bulk)
  const small = records(keys)
  const perKeySequential = (durability: 'relaxed' | 'strict') => async (s: StorageAdapter) => {
    for (const put of small) await s.writeBatch({ puts: [put], durability })
  }
  type Step = [fn: (s: StorageAdapter) => Promise<unknown>, setup?: (s: StorageAdapter) => Promise<unknown>]
  const steps = {
    writeRelaxed: [(s) => s.writeBatch({ puts: big, durability: 'relaxed' })],
    writeStrict: [(s) => s.writeBatch({ puts: big, durability: 'strict' })],
    load: [(s) => s.loadAll(), (s) => s.writeBatch({ puts: big })],
    batchRelaxed: [(s) => s.writeBatch({ puts: small, durability: 'relaxed' })],
    batchStrict: [(s) => s.writeBatch({ puts: small, durability: 'strict' })],
    sequentialRelaxed: [perKeySequential('relaxed')],
    sequentialStrict: [perKeySequential('strict')],
    concurrent: [(s) => Promise.all(small.map((put) => s.writeBatch({ puts: [put] })))],
  } satisfies Record<string, Step>
  type Name = keyof typeof steps
  const names = Object.keys(steps) as Name[]
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>
  await timed(...steps.writeRelaxed) // warm-up, not counted
  for (let r = 0; r < rounds; r++) {
    // Every other round in reverse, so no step always runs first (or right after a strict one).
    for (const name of r % 2 === 0 ? names : [...names].reverse()) times[name].push(await timed(...(steps[name] as Step)))
  }
  const m = (name: Name): number => median(times[name])
  return {
    writeBulk: { relaxed: m('writeRelaxed'), strict: m('writeStrict') },
    loadBulk: m('load'),
    perKey: {
      oneBatch: { relaxed: m('batchRelaxed'), strict: m('batchStrict') },
      sequential: { relaxed: m('sequentialRelaxed'), strict: m('sequentialStrict') },
      concurrent: m('concurrent'),
    },
    bulk,
    keys,
    rounds,
  }
}
