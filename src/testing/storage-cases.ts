import type { StorageAdapter } from '../storage/adapter.js'

/**
 * The StorageAdapter contract as plain async functions, with no test framework: vitest runs them
 * through storage-contract.ts, the real-Chromium page (e2e/storage/) through `runStorageCase`.
 * A case throws on failure. It asserts on error codes only (duck-typed `code`, so adapters built
 * from another copy of the package pass too).
 */

export interface StorageFixture {
  /** A new, empty adapter no other case sees. */
  make(): Promise<StorageAdapter>
  /**
   * An adapter of `namespace` (given only when the implementation has namespaces): two
   * namespaces never see each other's records; the same namespace twice is the same data when
   * `persistent`.
   */
  fresh?: ((namespace: string) => Promise<StorageAdapter>) | undefined
  /** Records outlive close(): a reopened namespace holds what was written before. */
  persistent: boolean
}

export interface StorageCase {
  /** What the implementation must have for the case to apply; the case is not declared otherwise. */
  needs?: 'namespaces' | 'persistence'
  run(fixture: StorageFixture): Promise<void>
}

type Entries = Array<[key: string, record: unknown]>

export function fail(message: string): never {
  throw new Error(message)
}

/** Structural equality over what structured clone keeps: primitives (NaN, -0), arrays, plain objects, Map, Set, Uint8Array, Date. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  if (a instanceof Uint8Array) return a.length === (b as Uint8Array).length && a.every((x, i) => x === (b as Uint8Array)[i])
  if (a instanceof Date) return a.getTime() === (b as Date).getTime()
  if (a instanceof Map || a instanceof Set) return sameValue([...a], [...(b as Map<unknown, unknown> | Set<unknown>)])
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? { Map: [...v] } : v instanceof Uint8Array ? { Uint8Array: [...v] } : v)).slice(0, 300)
  } catch {
    return String(value)
  }
}

export function expectSame(actual: unknown, expected: unknown, what: string): void {
  if (!sameValue(actual, expected)) fail(`${what}: got ${show(actual)}, expected ${show(expected)}`)
}

/** Awaits `promise` and checks it rejects with an error whose `code` is `code`. */
export async function expectCode(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await promise
  } catch (err: unknown) {
    const got = (err as { code?: unknown } | null)?.code
    if (got !== code) fail(`${what}: rejected with ${String(got ?? err)}, expected ${code}`)
    return
  }
  fail(`${what}: resolved, expected a rejection with ${code}`)
}

/** Keys in IndexedDB's string order: by UTF-16 code unit, as `<` compares strings. */
export const inKeyOrder = (keys: readonly string[]): string[] => [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))

const SAMPLES: Entries = [
  ['empty string', ''],
  ['string', 'héllo, wörld 😀'],
  ['integer beyond 2^32', 2 ** 32 + 7],
  ['largest safe integer', Number.MAX_SAFE_INTEGER],
  ['negative float', -1.5],
  ['odd numbers', [0, -0, NaN, Infinity, -Infinity]],
  ['booleans and null', [true, false, null]],
  ['bytes', new Uint8Array([0, 1, 127, 128, 255])],
  ['nested', { a: [1, [2, [3, { b: 'c' }]]], d: { e: { f: new Uint8Array([9]) } }, g: [] }],
  ['map', new Map<unknown, unknown>([['k', 1], [2, { v: [3] }], ['bytes', new Uint8Array([4])]])],
  ['record like the sync table keeps', { value: { text: 'x' }, hlc: [1_700_000_000_000, 3], owner: 'Qm…', gen: 2 ** 40 }],
]

/** `n` records with ~100-byte values, keys in an order unlike key order. */
export function records(n: number, prefix = 'k'): Entries {
  const out: Entries = []
  for (let i = 0; i < n; i++) {
    const j = (i * 7919) % n // a permutation of 0 … n-1 while n is not a multiple of the prime 7919
    out.push([`${prefix}${j}`, { i: j, text: 'x'.repeat(60), bytes: new Uint8Array(16).fill(j & 255), at: 1_700_000_000_000 + j }])
  }
  return out
}

const ns = (): string => `contract-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`

export const STORAGE_CASES: Record<string, StorageCase> = {
  'a new store loads nothing': {
    async run({ make }) {
      expectSame(await (await make()).loadAll(), [], 'loadAll')
    },
  },

  'records come back equal, in key order, as copies the caller cannot alias': {
    async run({ make }) {
      const s = await make()
      const original = { list: [1, 2], bytes: new Uint8Array([1]) }
      await s.writeBatch({ puts: [...SAMPLES, ['aliased', original]] })
      original.list.push(3)
      original.bytes[0] = 99
      const loaded = await s.loadAll()
      const expected: Entries = [...SAMPLES, ['aliased', { list: [1, 2], bytes: new Uint8Array([1]) }]]
      expectSame(loaded, inKeyOrder(expected.map(([k]) => k)).map((k) => expected.find(([e]) => e === k)!), 'loadAll')
      const first = loaded.find(([k]) => k === 'aliased')![1] as { list: number[] }
      first.list.push(4)
      expectSame((await s.loadAll()).find(([k]) => k === 'aliased')![1], { list: [1, 2], bytes: new Uint8Array([1]) }, 'after mutating a loaded record')
    },
  },

  'a put overwrites the key; the last put of a key in one batch wins': {
    async run({ make }) {
      const s = await make()
      await s.writeBatch({ puts: [['a', 1], ['b', 1]] })
      await s.writeBatch({ puts: [['a', { v: 2 }]] })
      await s.writeBatch({ puts: [['b', 2], ['b', 3]] })
      expectSame(await s.loadAll(), [['a', { v: 2 }], ['b', 3]], 'loadAll')
    },
  },

  'a delete removes the key; deleting a missing key is not an error': {
    async run({ make }) {
      const s = await make()
      await s.writeBatch({ puts: [['a', 1], ['b', 2], ['c', 3]] })
      await s.writeBatch({ deletes: ['b', 'missing'] })
      expectSame(await s.loadAll(), [['a', 1], ['c', 3]], 'loadAll')
      await s.writeBatch({})
      await s.writeBatch({ puts: [], deletes: [] })
      expectSame(await s.loadAll(), [['a', 1], ['c', 3]], 'after empty batches')
    },
  },

  '10,000 puts in one batch load back as 10,000 records in key order': {
    async run({ make }) {
      const s = await make()
      const batch = records(10_000)
      const odd: Entries = ['B', 'a', 'é', '10', '9', '', '\u{1F600}', '\uFFFF', 'a\u0000'].map((k) => [k, k])
      await s.writeBatch({ puts: [...batch, ...odd] })
      const loaded = await s.loadAll()
      if (loaded.length !== 10_009) fail(`loaded ${loaded.length} records, expected 10,009`)
      const keys = loaded.map(([k]) => k)
      expectSame(keys, inKeyOrder([...batch, ...odd].map(([k]) => k)), 'keys in key order')
      expectSame(loaded.find(([k]) => k === 'k4321')?.[1], batch.find(([k]) => k === 'k4321')?.[1], 'record k4321')
    },
  },

  'one batch mixes puts and deletes: deletes apply first, so a key in both holds its put': {
    async run({ make }) {
      const s = await make()
      await s.writeBatch({ puts: [['a', 1], ['b', 1], ['c', 1]] })
      await s.writeBatch({ puts: [['b', 2], ['d', 2]], deletes: ['a', 'b'] })
      expectSame(await s.loadAll(), [['b', 2], ['c', 1], ['d', 2]], 'loadAll')
    },
  },

  'all or nothing: a batch holding an uncloneable value rejects STORAGE_FAILED and writes nothing': {
    async run({ make }) {
      const s = await make()
      await s.writeBatch({ puts: [['keep', 1], ['gone?', 1]] })
      const bad = s.writeBatch({ puts: [['new', 1], ['fn', { f: () => 1 }], ['after', 1]], deletes: ['gone?'] })
      await expectCode(bad, 'STORAGE_FAILED', 'writeBatch with a function value')
      expectSame(await s.loadAll(), [['gone?', 1], ['keep', 1]], 'loadAll after the refused batch')
      await expectCode(s.writeBatch({ puts: [[7 as unknown as string, 1]] }), 'STORAGE_FAILED', 'a non-string key')
      await s.writeBatch({ puts: [['next', 1]] })
      expectSame((await s.loadAll()).length, 3, 'the store still takes batches')
    },
  },

  'strict and relaxed durability are both accepted': {
    async run({ make }) {
      const s = await make()
      await s.writeBatch({ puts: [['strict', 1]], durability: 'strict' })
      await s.writeBatch({ puts: [['relaxed', 2]], durability: 'relaxed' })
      await s.writeBatch({ deletes: ['strict'], durability: 'strict' })
      expectSame(await s.loadAll(), [['relaxed', 2]], 'loadAll')
    },
  },

  'calls made without awaiting apply in call order': {
    async run({ make }) {
      const s = await make()
      const calls = [
        s.writeBatch({ puts: [['a', 1], ['b', 1]] }),
        s.writeBatch({ puts: [['a', 2]], durability: 'strict' }),
        s.clear(),
        s.writeBatch({ puts: [['c', 3]] }),
      ]
      const loaded = s.loadAll()
      await Promise.all(calls)
      expectSame(await loaded, [['c', 3]], 'loadAll issued after them')
    },
  },

  'clear removes every record': {
    async run({ make }) {
      const s = await make()
      await s.writeBatch({ puts: records(100) })
      await s.clear()
      expectSame(await s.loadAll(), [], 'loadAll after clear')
      await s.writeBatch({ puts: [['x', 1]] })
      expectSame(await s.loadAll(), [['x', 1]], 'loadAll after a put')
    },
  },

  'close is idempotent; every later call rejects STORAGE_CLOSED': {
    async run({ make }) {
      const s = await make()
      await s.writeBatch({ puts: [['a', 1]] })
      await Promise.all([s.close(), s.close()])
      await s.close()
      await expectCode(s.loadAll(), 'STORAGE_CLOSED', 'loadAll')
      await expectCode(s.writeBatch({ puts: [['b', 1]] }), 'STORAGE_CLOSED', 'writeBatch')
      await expectCode(s.writeBatch({}), 'STORAGE_CLOSED', 'an empty writeBatch')
      await expectCode(s.clear(), 'STORAGE_CLOSED', 'clear')
    },
  },

  'two namespaces do not see each other': {
    needs: 'namespaces',
    async run({ fresh }) {
      const id = ns()
      const a = await fresh!(`${id}-a`)
      const b = await fresh!(`${id}-b`)
      await a.writeBatch({ puts: [['k', 'a']] })
      await b.writeBatch({ puts: [['k', 'b'], ['only-b', 1]] })
      expectSame(await a.loadAll(), [['k', 'a']], 'namespace a')
      await a.clear()
      expectSame(await b.loadAll(), [['k', 'b'], ['only-b', 1]], 'namespace b after clearing a')
    },
  },

  'a reopened namespace holds what was written, even by calls close() let finish': {
    needs: 'persistence',
    async run({ fresh }) {
      const id = ns()
      const first = await fresh!(id)
      await first.writeBatch({ puts: [...SAMPLES, ['gone', 1]], durability: 'strict' })
      const late = first.writeBatch({ puts: [['late', 'written before close resolved']], deletes: ['gone'] })
      await first.close()
      await late
      const second = await fresh!(id)
      const expected: Entries = [...SAMPLES, ['late', 'written before close resolved']]
      expectSame(await second.loadAll(), inKeyOrder(expected.map(([k]) => k)).map((k) => expected.find(([e]) => e === k)!), 'reopened loadAll')
      const other = await fresh!(`${id}-other`)
      expectSame(await other.loadAll(), [], 'another namespace')
    },
  },
}

/** The names of the cases that apply to a fixture with these capabilities. */
export function applicableCases(capabilities: { namespaces: boolean; persistent: boolean }): string[] {
  return Object.entries(STORAGE_CASES)
    .filter(([, c]) => c.needs === undefined || (c.needs === 'namespaces' ? capabilities.namespaces : capabilities.namespaces && capabilities.persistent))
    .map(([name]) => name)
}

/** Runs one case; closes every adapter the case made (close is idempotent), whatever happens. */
export async function runStorageCase(name: string, fixture: StorageFixture): Promise<void> {
  const storageCase = STORAGE_CASES[name] ?? fail(`no storage case ${JSON.stringify(name)}`)
  const made: StorageAdapter[] = []
  const track = async (adapter: Promise<StorageAdapter>): Promise<StorageAdapter> => {
    const a = await adapter
    made.push(a)
    return a
  }
  const tracked: StorageFixture = {
    make: () => track(fixture.make()),
    fresh: fixture.fresh === undefined ? undefined : (namespace) => track(fixture.fresh!(namespace)),
    persistent: fixture.persistent,
  }
  try {
    await storageCase.run(tracked)
  } finally {
    await Promise.allSettled(made.map((a) => a.close()))
  }
}
