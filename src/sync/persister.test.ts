import { describe, expect, it } from 'vitest'
import { StorageError } from '../errors.js'
import { MemoryStorage } from '../storage/memory-storage.js'
import type { StorageAdapter } from '../storage/adapter.js'
import { FakeClock } from '../testing/fake-clock.js'
import { SimNetwork } from '../testing/sim-network.js'
import { simDisk } from '../testing/sim-disk.js'
import { simSyncNode, type SimSyncNode } from '../testing/sim-sync.js'
import { packArray, unpackArray } from '../wire/payload.js'
import type { P2PError } from '../errors.js'
import { keyStateDigest, type KeyState, type SyncRules } from './key-state.js'
import { entryItems } from './write-codec.js'
import { APPEND_AT_LEAST, CHUNK_BYTES, CHUNK_ENTRIES, COMPACT_MIN, PERSIST_AT_ONCE, Persister, type Restored } from './persister.js'
import { Table } from './table.js'
import { GroupTree } from './group-tree.js'
import { StoredGroups } from './stored-groups.js'
import { transferColumns } from './transfer.js'
import { LEAF_BYTES, type Write, type WriteGroup } from './write.js'

const RULES: SyncRules = { leasing: false, leaseMs: 1_000, maxDriftMs: 100, maxHistory: 3 }
const BOUNDS = { maxKeyBytes: 1_024, maxValueBytes: 65_536 }
const WRITERS = ['A', 'B', 'Cw']
const CLOCK = { ms: 1_800_000_000_000, counter: 7 }

/** Each writer's groups of writes (signed mode, update()): 64 writes each, 4 groups. */
const GROUPS = new Map(WRITERS.map((writer, w) => [writer, Array.from({ length: 4 }, (_, g): WriteGroup => ({ writer, sig: Uint8Array.from({ length: 64 }, (_, j) => (w * 31 + g * 7 + j) & 0xff), size: 64, tree: GroupTree.of(Uint8Array.from({ length: 64 * LEAF_BYTES }, (_, j) => (w + g + j) & 0xff)) }))]))

/** The i-th write of key i: every kind of value, signatures on some, groups on others, several writes on some keys (checkpoints: maxHistory 3). */
function writeOf(i: number, version: number): Write {
  const stamp = { ms: 1_000_000 + i * 10 + version, counter: version % 2 }
  const writer = WRITERS[(i + version) % WRITERS.length]!
  const sig = i % 3 === 0 ? { sig: Uint8Array.from({ length: 64 }, (_, j) => (i + j) & 0xff) } : i % 3 === 1 ? { group: GROUPS.get(writer)![(i >> 6) % 4]!, index: i % 64 } : {}
  switch (i % 6) {
    case 0:
      return { kind: 'set', stamp, writer, value: `value ${i}.${version}`, ...sig }
    case 1:
      return { kind: 'set', stamp, writer, value: { n: 2 ** 40 + i, half: 0.5, list: [1, 'two', { three: true }], bytes: Uint8Array.of(i & 0xff, 1, 2) }, ...sig }
    case 2:
      return { kind: 'delta', stamp, writer, value: { [`f${version}`]: i }, ...sig }
    case 3:
      return version % 2 === 0 ? { kind: 'set', stamp, writer, value: -i, ...sig } : { kind: 'delete', stamp, writer, ...sig }
    case 4:
      return { kind: 'set', stamp, writer, value: Uint8Array.of(9, 8, 7, i & 0xff), ...sig }
    default:
      return { kind: 'set', stamp, writer, value: 'é€😀'.repeat(i % 5), ...sig }
  }
}

/** Writes keys [from, to) (`writes` writes each) into the table, saving each change. */
function fill(table: Table, persister: Persister, from: number, to: number, writes = 1, firstVersion = 0): void {
  for (let i = from; i < to; i++) {
    const key = `key ${i}`
    for (let v = firstVersion; v < firstVersion + (i % 7 === 0 ? writes + 4 : writes); v++) {
      table.insert(key, writeOf(i, v))
      const row = table.row(key)!
      persister.save(key, row.state, row.item.id, CLOCK, false)
    }
  }
}

/** `fill`, a few keys a batch (fewer than APPEND_AT_LEAST new ones): each key gets a record of its own. */
async function fillByRecord(table: Table, persister: Persister, from: number, to: number, writes = 1): Promise<void> {
  for (let i = from; i < to; i += APPEND_AT_LEAST - 1) {
    fill(table, persister, i, Math.min(to, i + APPEND_AT_LEAST - 1), writes)
    await persister.flushed()
  }
}

/** `storage` as a page's IndexedDB: it outlives a persister's close(). */
function lasting(storage: MemoryStorage): StorageAdapter {
  return { loadAll: () => storage.loadAll(), writeBatch: (batch) => storage.writeBatch(batch), clear: () => storage.clear(), close: async () => {} }
}

async function started(): Promise<{ storage: MemoryStorage; persister: Persister; table: Table; reports: P2PError[] }> {
  const storage = new MemoryStorage()
  const reports: P2PError[] = []
  const persister = new Persister(lasting(storage), (err) => reports.push(err))
  await persister.restore(BOUNDS)
  const table = new Table(RULES, 100_000)
  persister.follow(table)
  return { storage, persister, table, reports }
}

/** `started`, under a name the sim tests' own helper does not shadow. */
const startedPersister = started

async function storedKeys(storage: StorageAdapter): Promise<string[]> {
  return (await storage.loadAll()).map(([key]) => key)
}

const count = (keys: string[], prefix: string) => keys.filter((k) => k.startsWith(prefix)).length

/** Restored rows by key, as comparable data. */
function byKey(restored: Restored): Map<string, { state: KeyState; id: Uint8Array | undefined }> {
  return new Map(restored.rows.map(([key, state, id]) => [key, { state, id }]))
}

/** The table's rows as restored rows should read. */
function tableRows(table: Table): Map<string, { state: KeyState; id: Uint8Array | undefined }> {
  return new Map(Array.from(table.rows(), ([key, row]) => [key, { state: row.state, id: row.item.id }]))
}

describe('Persister: snapshot chunks and per-key records', () => {
  it('writes one record per key until the threshold, then the whole table as chunks in one batch', async () => {
    const { storage, persister, table } = await started()
    await fillByRecord(table, persister, 0, COMPACT_MIN, 2)
    let keys = await storedKeys(storage)
    expect([count(keys, 'k:'), count(keys, 's:'), persister.compactions]).toEqual([COMPACT_MIN, 0, 0])
    fill(table, persister, COMPACT_MIN, COMPACT_MIN + 1)
    await persister.flushed()
    keys = await storedKeys(storage)
    expect(persister.compactions).toBe(1)
    expect(count(keys, 'k:')).toBe(0)
    expect(keys.filter((k) => !k.startsWith('s:') && !k.startsWith('g:'))).toEqual(['hlc', 'ids'])
    expect(count(keys, 'g:')).toBe(WRITERS.length * 4) // the groups the table's writes name, each once
    const chunks = (await storage.loadAll()).filter(([key]) => key.startsWith('s:')).map(([, chunk]) => chunk as Uint8Array)
    expect(keys.filter((k) => k.startsWith('s:')).sort()).toEqual(chunks.map((_, n) => `s:${n}`).sort())
    // Each chunk is [2, columns, ids, sigs]: the keys column holds its entries.
    const entries = chunks.map((c) => unpackArray(c, { maxItems: c.length, maxDepth: 100, maxBytes: c.length }) as [number, unknown[][], Uint8Array, Uint8Array[]])
    expect(entries.every(([format, columns, ids]) => format === 2 && ids.length === columns[1]!.length * 16)).toBe(true)
    expect(entries.reduce((n, [, columns]) => n + columns[1]!.length, 0)).toBe(COMPACT_MIN + 1)
    expect(entries.every(([, columns]) => columns[1]!.length <= CHUNK_ENTRIES)).toBe(true)
    // Groups are named by their place in the chunk's list: each of a chunk's groups listed once.
    for (const [, , , sigs] of entries) expect(new Set(sigs.map((sig) => Buffer.from(sig).toString('hex'))).size).toBe(sigs.length)
    const restored = await new Persister(storage, () => {}).restore(BOUNDS)
    expect(restored.bad).toBe(0)
    expect(byKey(restored)).toEqual(tableRows(table))
    expect(restored.clock).toEqual(CLOCK)
  })

  it('with a delay, the changes within it share one transaction; flushed() writes what waits at once', async () => {
    const storage = new MemoryStorage()
    const batches: number[] = []
    const counting: StorageAdapter = { ...lasting(storage), writeBatch: (batch) => (batches.push(batch.puts?.length ?? 0), storage.writeBatch(batch)) }
    const clock = new FakeClock()
    const persister = new Persister(counting, () => {}, clock, 100)
    await persister.restore(BOUNDS)
    const table = new Table(RULES, 100_000)
    persister.follow(table)
    fill(table, persister, 0, 3)
    await clock.advanceAsync(60)
    fill(table, persister, 3, 5)
    await clock.advanceAsync(39)
    expect(batches).toEqual([]) // 99 ms after the first change: nothing written yet
    await clock.advanceAsync(1)
    await persister.flushed()
    expect(batches).toEqual([5 + 1 + 1 + 1]) // five keys, the group keys 1 and 4 name, the clock and the id rule: one transaction
    fill(table, persister, 5, 6)
    await persister.flushed() // at once, without the clock moving
    expect(batches).toEqual([8, 2])
    await clock.runAllAsync() // and its timer, gone, writes nothing more
    expect(batches).toEqual([8, 2])
    // PERSIST_AT_ONCE keys waiting: written in the task's transaction, the delay not awaited.
    fill(table, persister, 6, 6 + PERSIST_AT_ONCE)
    await new Promise((resolve) => setImmediate(resolve)) // the microtasks run; the fake clock does not move
    expect(batches.length).toBe(3)
    await persister.flushed()
    expect(batches.length).toBe(3) // the rest of the task's keys went with the first PERSIST_AT_ONCE
    expect(byKey(await new Persister(storage, () => {}).restore(BOUNDS))).toEqual(tableRows(table))
  })

  it('a chunk closes past CHUNK_BYTES (large values: fewer entries a chunk)', async () => {
    const { storage, persister, table } = await started()
    for (let i = 0; i < 300; i++) {
      table.insert(`big ${i}`, { kind: 'set', stamp: { ms: 1_000 + i, counter: 0 }, writer: 'A', value: 'x'.repeat(10_000) })
      persister.save(`big ${i}`, table.row(`big ${i}`)!.state, table.row(`big ${i}`)!.item.id, CLOCK, false)
    }
    await persister.close() // 300 per-key records: compacted on close
    const chunks = (await storage.loadAll()).filter(([key]) => key.startsWith('s:')).map(([, chunk]) => chunk as Uint8Array)
    expect(chunks.length).toBeGreaterThan(60)
    for (const c of chunks) expect(c.length).toBeLessThan(CHUNK_BYTES + 10_100)
    expect(byKey(await new Persister(storage, () => {}).restore(BOUNDS))).toEqual(tableRows(table))
  })

  it('after compaction, restore gives exactly the rows, ids, clock and writers\' keys it gave before', async () => {
    const { storage, persister, table } = await started()
    await fillByRecord(table, persister, 0, 400, 3)
    persister.savePublicKey('A', new Uint8Array(32).fill(1))
    persister.savePublicKey('B', new Uint8Array(32).fill(2))
    await persister.flushed()
    const before = await new Persister(storage, () => {}).restore(BOUNDS)
    expect(count(await storedKeys(storage), 'k:')).toBe(400)
    await persister.close() // 400 ≥ COMPACT_ON_CLOSE
    const keys = await storedKeys(storage)
    expect([count(keys, 'k:'), count(keys, 's:') > 0, count(keys, 'pk:')]).toEqual([0, true, 2])
    const after = await new Persister(storage, () => {}).restore(BOUNDS)
    expect(byKey(after)).toEqual(byKey(before))
    expect(byKey(after)).toEqual(tableRows(table))
    expect([after.clock, after.keys, after.bad]).toEqual([before.clock, before.keys, 0])
    // The stored ids are the ids a table computes.
    for (const [key, state, id] of after.rows) expect(id).toEqual(keyStateDigest(key, state))
  })

  it('per-key records written after a snapshot override it; a later compaction drops chunks past the new count', async () => {
    const { storage, persister, table } = await started()
    await fillByRecord(table, persister, 0, COMPACT_MIN + 1)
    expect(persister.compactions).toBe(1)
    const chunksBefore = count(await storedKeys(storage), 's:')
    fill(table, persister, 0, 40, 2, 5) // newer writes to 40 keys
    await persister.flushed()
    expect(count(await storedKeys(storage), 'k:')).toBe(40)
    const restored = await new Persister(storage, () => {}).restore(BOUNDS)
    expect(byKey(restored)).toEqual(tableRows(table))
    expect(byKey(restored).get('key 1')!.state.log.at(-1)!.stamp.counter).toBe(0) // version 6: counter 0
    expect(byKey(restored).get('key 1')!.state.log.at(-1)!.stamp.ms).toBe(1_000_016)

    // A smaller table on the same storage (a later session): its snapshot has fewer chunks, the rest go.
    const again = new Persister(lasting(storage), () => {})
    await again.restore(BOUNDS)
    const small = new Table(RULES, 100_000)
    again.follow(small)
    fill(small, again, 0, 300)
    await again.close()
    const keys = await storedKeys(storage)
    const chunks = keys.filter((k) => k.startsWith('s:'))
    expect(chunks.length).toBeLessThan(chunksBefore)
    expect(chunks.sort()).toEqual(chunks.map((_, n) => `s:${n}`).sort())
    expect(count(keys, 'k:')).toBe(0)
    expect(byKey(await new Persister(storage, () => {}).restore(BOUNDS))).toEqual(tableRows(small))
  })

  it('an old store (per-key records without ids) restores, ids computed; past the threshold it is compacted in a task of its own', async () => {
    const source = new Table(RULES, 100_000)
    const storage = new MemoryStorage()
    const puts: Array<[string, unknown]> = [['hlc', [CLOCK.ms, CLOCK.counter]]]
    for (let i = 0; i < COMPACT_MIN + 100; i++) {
      for (let v = 0; v < 2; v++) {
        const w = writeOf(i, v) // old stores had no groups
        source.insert(`key ${i}`, w.group === undefined ? w : { kind: w.kind, stamp: w.stamp, writer: w.writer, ...(w.value === undefined ? {} : { value: w.value }) })
      }
      puts.push([`k:key ${i}`, entryItems(`key ${i}`, source.row(`key ${i}`)!.state)])
    }
    await storage.writeBatch({ puts })
    const clock = new FakeClock()
    const persister = new Persister(lasting(storage), () => {}, clock)
    const restored = await persister.restore(BOUNDS)
    expect([restored.rows.length, restored.bad, restored.rows.every(([, , id]) => id === undefined)]).toEqual([COMPACT_MIN + 100, 0, true])
    const table = new Table(RULES, 100_000)
    table.restoreAll(restored.rows)
    expect(tableRows(table)).toEqual(tableRows(source))
    persister.follow(table)
    await persister.flushed()
    expect(persister.compactions).toBe(0) // not in the task that restores
    await clock.runAllAsync()
    await persister.flushed()
    expect(persister.compactions).toBe(1)
    expect(count(await storedKeys(storage), 'k:')).toBe(0)
    expect(byKey(await new Persister(storage, () => {}).restore(BOUNDS))).toEqual(tableRows(source))
  })

  it('ids stored by the earlier rule (no ids record) are made again on restore, and stored by a compaction', async () => {
    const { storage, persister, table } = await started()
    fill(table, persister, 0, 40)
    await persister.close()
    // As the earlier rule left it: other ids, and no 'ids' record.
    const records = (await storage.loadAll()).filter(([key]) => key !== 'ids')
    await storage.clear()
    await storage.writeBatch({ puts: records.map(([key, r]) => [key, key.startsWith('k:') ? [...(r as unknown[]).slice(0, 3), new Uint8Array(16)] : r]) })
    const clock = new FakeClock()
    const again = new Persister(lasting(storage), () => {}, clock)
    const restored = await again.restore(BOUNDS)
    expect([restored.rows.length, restored.rows.every(([, , id]) => id === undefined)]).toEqual([40, true])
    const next = new Table(RULES, 100_000)
    next.restoreAll(restored.rows)
    expect(tableRows(next)).toEqual(tableRows(table))
    again.follow(next)
    await clock.runAllAsync()
    await again.flushed()
    expect(again.compactions).toBe(1)
    const keys = await storedKeys(storage)
    expect([count(keys, 'k:'), keys.includes('ids')]).toEqual([0, true])
    // Now stored under the rule: restored as they are, and they are the table's.
    expect(byKey(await new Persister(storage, () => {}).restore(BOUNDS))).toEqual(tableRows(table))
  })

  it('new keys in one batch (a newcomer, a burst) go in chunks appended to the others; later changes as records over them', async () => {
    const { storage, persister, table } = await started()
    fill(table, persister, 0, APPEND_AT_LEAST - 1) // too few: a record each
    await persister.flushed()
    expect(count(await storedKeys(storage), 'k:')).toBe(APPEND_AT_LEAST - 1)
    fill(table, persister, APPEND_AT_LEAST - 1, 3_000, 2) // a newcomer's table: written as it arrives
    await persister.flushed()
    let keys = await storedKeys(storage)
    expect([count(keys, 'k:'), persister.compactions]).toEqual([APPEND_AT_LEAST - 1, 0])
    expect(count(keys, 's:')).toBeGreaterThanOrEqual(Math.ceil((3_000 - APPEND_AT_LEAST + 1) / CHUNK_ENTRIES))
    expect(keys.filter((k) => k.startsWith('s:')).sort()).toEqual(keys.filter((k) => k.startsWith('s:')).map((_, n) => `s:${n}`).sort())
    expect(byKey(await new Persister(storage, () => {}).restore(BOUNDS))).toEqual(tableRows(table))
    // Keys in a chunk that change again: records, newer than the chunk, whatever the batch's size.
    fill(table, persister, 100, 300, 1, 7)
    await persister.flushed()
    keys = await storedKeys(storage)
    expect(count(keys, 'k:')).toBe(APPEND_AT_LEAST - 1 + 200)
    const restored = await new Persister(storage, () => {}).restore(BOUNDS)
    expect([restored.bad, byKey(restored).get('key 150')!.state.log.at(-1)!.stamp.ms]).toEqual([0, 1_000_000 + 1_500 + 7])
    expect(byKey(restored)).toEqual(tableRows(table))
    // A second session appends after the chunks it restored, and a compaction folds them all.
    const again = new Persister(lasting(storage), () => {})
    await again.restore(BOUNDS)
    again.follow(table)
    fill(table, again, 3_000, 3_500)
    await again.flushed()
    keys = await storedKeys(storage)
    expect(keys.filter((k) => k.startsWith('s:')).sort()).toEqual(keys.filter((k) => k.startsWith('s:')).map((_, n) => `s:${n}`).sort())
    expect(byKey(await new Persister(storage, () => {}).restore(BOUNDS))).toEqual(tableRows(table))
    await again.close() // 263 records: compacted
    keys = await storedKeys(storage)
    expect([count(keys, 'k:'), again.compactions]).toEqual([0, 1])
    expect(byKey(await new Persister(storage, () => {}).restore(BOUNDS))).toEqual(tableRows(table))
  })

  it('records and chunk entries that do not decode are skipped and counted; the rest restores', async () => {
    const { storage, persister, table } = await started()
    fill(table, persister, 0, 300)
    await persister.close()
    const good = entryItems('fine', { base: undefined, log: [writeOf(0, 0)] })
    const id = keyStateDigest('fine', { base: undefined, log: [writeOf(0, 0)] })
    await storage.writeBatch({
      puts: [
        ['k:junk', [1, 2, 3]], // not an entry
        ['k:short id', [...entryItems('short id', { base: undefined, log: [writeOf(1, 0)] }), new Uint8Array(15)]],
        ['k:bad writer', ['bad writer', null, [[0, 5, 0, 'not base58!', 'v']]]],
        ['s:x', packArray([good])], // not s:<n>
        ['s:98', 'not bytes'],
        ['s:99', Uint8Array.of(0xc1, 0xc1)], // not msgpack
        ['s:100', packArray([[...good, id], ['half', null], 7])], // one good entry, two bad
        ['s:101', packArray([2, ['not columns'], new Uint8Array(0), []])], // columns: whole or nothing
        ['s:102', packArray([2, transferColumns([['lost', { base: undefined, log: [writeOf(0, 0)] }]], new StoredGroups()), new Uint8Array(16), [new Uint8Array(3)]])], // a bad signature list
        ['s:103', packArray([2, transferColumns([['lost too', { base: undefined, log: [writeOf(0, 0)] }]], new StoredGroups()), new Uint8Array(15), []])], // an id short
      ],
    })
    const restored = await new Persister(storage, () => {}).restore(BOUNDS)
    expect(restored.bad).toBe(11)
    const rows = byKey(restored)
    expect(rows.get('fine')).toEqual({ state: { base: undefined, log: [writeOf(0, 0)] }, id })
    expect(rows.size).toBe(301)
    expect([...rows.keys()].filter((k) => !k.startsWith('key '))).toEqual(['fine'])
    // The next compaction keeps what decoded and drops the rest.
    const again = new Persister(lasting(storage), () => {})
    const table2 = new Table(RULES, 100_000)
    table2.restoreAll((await again.restore(BOUNDS)).rows)
    again.follow(table2)
    fill(table2, again, 0, 300, 1, 3)
    await again.close()
    const keys = await storedKeys(storage)
    expect(keys.filter((k) => !k.startsWith('s:') && !k.startsWith('g:'))).toEqual(['hlc', 'ids'])
    expect(count(keys, 'g:')).toBe(WRITERS.length * 4) // the groups the table's writes name, each once
    const last = await new Persister(lasting(storage), () => {}).restore(BOUNDS)
    expect([last.bad, last.rows.length]).toEqual([0, 301])
    expect(byKey(last)).toEqual(tableRows(table2))
  })

  it('a failure during compaction is reported once; nothing of it is written, and later saves write nothing', async () => {
    let fail = false
    let writes = 0
    const storage = new MemoryStorage({ failWith: () => (writes++, fail ? new StorageError('STORAGE_QUOTA', 'quota exceeded') : undefined) })
    const reports: P2PError[] = []
    const persister = new Persister(lasting(storage), (err) => reports.push(err))
    await persister.restore(BOUNDS)
    const table = new Table(RULES, 100_000)
    persister.follow(table)
    fill(table, persister, 0, COMPACT_MIN)
    await persister.flushed()
    const stored = await storage.loadAll()
    fail = true
    fill(table, persister, COMPACT_MIN, COMPACT_MIN + 10)
    await persister.flushed()
    expect(reports.map((e) => e.code)).toEqual(['STORAGE_QUOTA'])
    expect(persister.failed).toBe(true)
    const attempts = writes
    fill(table, persister, 0, 10, 1, 9)
    await persister.close()
    expect(writes).toBe(attempts)
    expect(reports).toHaveLength(1)
    expect(await storage.loadAll()).toEqual(stored)
  })
})

describe('SyncSocket restoring from chunks', () => {
  const START = 1_800_000_000_000
  const OPTIONS = { leasing: false, security: 'unsigned' as const }

  async function started(sim: SimNetwork, node: SimSyncNode): Promise<void> {
    let ready = false
    void node.table.ready().then(() => (ready = true))
    expect(await sim.runUntil(() => ready)).toBe(true)
  }

  it('restores the table with its stored ids: reconciling with a peer that holds the same keys sends no entries', async () => {
    const sim = new SimNetwork({ seed: 20261231, latency: { min: 1, max: 20 }, startTime: START })
    const disk = simDisk()
    const a = await simSyncNode(sim, [], OPTIONS)
    await started(sim, a)
    const b = await simSyncNode(sim, [a.id], OPTIONS, { storage: disk.storage })
    await started(sim, b)
    await a.table.update(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`key ${i}`, { i, text: `value ${i}` }])))
    await a.table.delete('key 7')
    expect(await sim.runUntil(() => b.table.size === 299 && b.table.has('key 299') && !b.table.has('key 7'))).toBe(true)
    await b.table.close()
    // The 300 new keys came in one batch: stored as chunks; the delete after it as a record.
    const records = await [...disk.stores.values()][0]!.loadAll()
    expect(records.filter(([key]) => key.startsWith('k:')).map(([key]) => key)).toEqual(['k:key 7'])
    expect(records.filter(([key]) => key.startsWith('s:')).length).toBeGreaterThan(0)

    const again = await simSyncNode(sim, [a.id], OPTIONS, { storage: disk.storage, identity: b.identity })
    await again.table.restored()
    expect([...again.table.entries()].sort()).toEqual([...a.table.entries()].sort())
    expect(again.table.meta('key 1')?.source).toBe('restore')
    expect([again.table.has('key 7'), again.table.meta('key 7')?.gen]).toEqual([false, 2]) // the tombstone
    const sentBefore = a.table.syncStats.entriesSent
    let synced = false
    void again.table.synced().then(() => (synced = true))
    expect(await sim.runUntil(() => synced)).toBe(true)
    expect(again.table.syncStats.reconciliations).toBeGreaterThan(0)
    expect([again.table.syncStats.entriesReceived, again.table.syncStats.entriesSent, a.table.syncStats.entriesSent - sentBefore]).toEqual([0, 0, 0])
    // Still in step afterwards: a change on either side arrives.
    await a.table.set('key 1', 'changed')
    await again.table.set('key 2', 'changed too')
    expect(await sim.runUntil(() => again.table.get('key 1') === 'changed' && a.table.get('key 2') === 'changed too')).toBe(true)
  })

  it('storage that fails when an old store is compacted after restore: reported once, the table carries on in memory', async () => {
    const sim = new SimNetwork({ seed: 20261232, latency: { min: 1, max: 20 }, startTime: START })
    const source = new Table({ leasing: false, leaseMs: 1, maxDriftMs: 180_000, maxHistory: 32 }, 100_000)
    const puts: Array<[string, unknown]> = []
    for (let i = 0; i < COMPACT_MIN + 10; i++) {
      source.insert(`key ${i}`, { kind: 'set', stamp: { ms: START - 1_000 + i, counter: 0 }, writer: 'A', value: i })
      puts.push([`k:key ${i}`, entryItems(`key ${i}`, source.row(`key ${i}`)!.state)])
    }
    let full = false
    const storage = new MemoryStorage({ failWith: () => (full ? new StorageError('STORAGE_QUOTA', 'quota exceeded') : undefined) })
    await storage.writeBatch({ puts })
    full = true
    const node = await simSyncNode(sim, [], OPTIONS, { storage: () => storage })
    const errors: string[] = []
    node.table.on('error', (e) => errors.push(e.code))
    await started(sim, node)
    expect(node.table.size).toBe(COMPACT_MIN + 10)
    await sim.runFor(1_000)
    expect(errors).toEqual(['STORAGE_QUOTA'])
    await node.table.set('new', 1)
    await node.table.set('key 3', 'changed')
    await sim.runFor(1_000)
    expect([node.table.get('new'), node.table.get('key 3'), node.table.size]).toEqual([1, 'changed', COMPACT_MIN + 11])
    expect(errors).toEqual(['STORAGE_QUOTA'])
    expect((await storage.loadAll()).length).toBe(COMPACT_MIN + 10) // as it was
  })

  it('a group is stored once, with the first write that names it; compaction deletes the groups no write names any more', async () => {
    const { storage, persister, table } = await startedPersister()
    // Groups of their own (fill() below names GROUPS' groups).
    const [g1, g2] = [1, 2].map((n): WriteGroup => ({ writer: 'A', sig: new Uint8Array(64).fill(200 + n), size: 16, tree: GroupTree.of(new Uint8Array(16 * LEAF_BYTES).fill(n)) }))
    const write = (key: string, group: WriteGroup, index: number, ms: number): void => {
      table.insert(key, { kind: 'set', stamp: { ms, counter: 0 }, writer: 'A', value: key, group, index })
      const row = table.row(key)!
      persister.save(key, row.state, row.item.id, CLOCK, false)
    }
    for (let i = 0; i < 10; i++) write(`k${i}`, g1!, i, 1_000 + i)
    write('other', g2!, 0, 2_000)
    await persister.flushed()
    let records = (await storage.loadAll()).filter(([k]) => k.startsWith('g:'))
    expect(records.map(([, r]) => (r as unknown[])[1])).toEqual(expect.arrayContaining([g1!.sig, g2!.sig]))
    expect(records).toHaveLength(2)
    const restored = await new Persister(storage, () => {}).restore(BOUNDS)
    expect(restored.bad).toBe(0)
    expect(byKey(restored)).toEqual(tableRows(table))
    // 'other' is overwritten by a single-signature write: g2 is named by nothing; compaction drops it.
    table.insert('other', { kind: 'set', stamp: { ms: 3_000, counter: 0 }, writer: 'A', value: 'x', sig: new Uint8Array(64).fill(1) })
    const RULES_HISTORY = RULES.maxHistory
    for (let v = 1; v <= RULES_HISTORY; v++) table.insert('other', { kind: 'set', stamp: { ms: 3_000 + v, counter: 0 }, writer: 'A', value: v, sig: new Uint8Array(64).fill(v) })
    const row = table.row('other')!
    expect(JSON.stringify(row.state, (_, v: unknown) => (v instanceof Uint8Array ? v.length : v))).not.toContain('"group"')
    persister.save('other', row.state, row.item.id, CLOCK, false)
    await persister.close() // compacts: fewer than COMPACT_ON_CLOSE records, so compact by hand below
    const again = new Persister(lasting(storage), () => {})
    await again.restore(BOUNDS)
    again.follow(table)
    await fillByRecord(table, again, 0, COMPACT_MIN + 1) // past the threshold: a flush compacts
    expect(again.compactions).toBe(1)
    records = (await storage.loadAll()).filter(([k]) => k.startsWith('g:'))
    const sigs = records.map(([, r]) => (r as unknown[])[1] as Uint8Array)
    expect(sigs).toContainEqual(g1!.sig)
    expect(sigs).not.toContainEqual(g2!.sig)
    expect(byKey(await new Persister(storage, () => {}).restore(BOUNDS))).toEqual(tableRows(table))
  })
})
