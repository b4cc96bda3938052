import { describe, expect, it } from 'vitest'
import type { SyncError } from '../errors.js'
import { checkLocalWrite, eventsOf, metaOf, type WriteCheck } from './events.js'
import { EMPTY_KEY, insertWrite, resolve, type Resolved, type SyncRules } from './key-state.js'
import type { Write } from './write.js'

const RULES: SyncRules = { leasing: true, leaseMs: 1_000, maxDriftMs: 100, maxHistory: 32 }
const w = (ms: number, writer: string, value: unknown): Write => ({ kind: 'set', stamp: { ms, counter: 0 }, writer, value })
const state = (...writes: Write[]): Resolved => resolve(writes.reduce((k, x) => insertWrite(k, x, RULES).key, EMPTY_KEY), RULES)
const meta = (r: Resolved) => metaOf(r, RULES, 0, 'remote')

describe('sync events', () => {
  it('a new accepted write is an update; a tombstone after a value is a delete', () => {
    expect(eventsOf({ key: 'k', before: undefined, after: state(w(1, 'A', 'x')) }, 'B', meta).map((e) => e.event)).toEqual(['update'])
    const gone = state(w(1, 'A', 'x'), { kind: 'delete', stamp: { ms: 2, counter: 0 }, writer: 'A' })
    expect(eventsOf({ key: 'k', before: state(w(1, 'A', 'x')), after: gone }, 'B', meta).map((e) => e.event)).toEqual(['delete'])
  })

  it('one conflict when a write of mine is refused after a heal, with my value and the winner', () => {
    const before = state(w(5, 'B', 'mine'))
    const after = state(w(5, 'B', 'mine'), w(1, 'A', 'theirs'))
    const events = eventsOf({ key: 'k', before, after }, 'B', meta)
    expect(events).toEqual([
      { event: 'update', key: 'k', value: 'theirs', meta: meta(after) },
      { event: 'conflict', key: 'k', mine: 'mine', winner: meta(after) },
    ])
    expect(eventsOf({ key: 'k', before, after }, 'C', meta).map((e) => e.event)).toEqual(['update'])
  })

  it('meta shows the owner and expiry only while the lease lasts', () => {
    const r = state(w(1_000, 'A', 'x'))
    expect(metaOf(r, RULES, 2_000, 'local')).toMatchObject({ owner: 'A', expiresAt: 2_100, gen: 1 })
    expect(metaOf(r, RULES, 2_100, 'local')).toMatchObject({ owner: undefined, expiresAt: undefined, gen: 1 })
  })

  it('a local write gets the named error for each bound and for a held lease', () => {
    const base: WriteCheck = { key: 'k', kind: 'set', value: 'v', stamp: { ms: 10, counter: 0 }, writer: 'B', current: undefined, full: false, bounds: { maxKeyBytes: 4, maxValueBytes: 8 }, maxKeys: 1, rules: RULES }
    const code = (c: Partial<WriteCheck>) => {
      try {
        checkLocalWrite({ ...base, ...c })
        return 'ok'
      } catch (err: unknown) {
        return (err as SyncError).code
      }
    }
    expect(code({})).toBe('ok')
    expect(code({ key: 'kkkkk' })).toBe('KEY_TOO_LARGE')
    expect(code({ key: 'ééé' })).toBe('KEY_TOO_LARGE') // 6 UTF-8 bytes
    expect(code({ value: 'v'.repeat(9) })).toBe('VALUE_TOO_LARGE')
    expect(code({ value: () => 1 })).toBe('INVALID_PAYLOAD')
    expect(code({ full: true })).toBe('TOO_MANY_KEYS')
    expect(code({ key: 7 })).toBe('INVALID_ARGUMENT')
    expect(code({ current: state(w(5, 'A', 'x')) })).toBe('LEASE_HELD')
    expect(code({ current: state(w(5, 'A', 'x')), kind: 'delta', writer: 'A', value: { f: 1 } })).toBe('NOT_A_MAP')
    expect(() => checkLocalWrite({ ...base, current: state(w(5, 'A', 'x')) })).toThrow(expect.objectContaining({ owner: 'A', expiresAt: 1_105, key: 'k' }))
  })
})
