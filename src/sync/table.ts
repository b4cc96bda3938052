import { EMPTY_KEY, insertWrite, keyStateDigest, keyTime, mergeKeys, resolve, type InsertOutcome, type KeyState, type Resolved, type SyncRules } from './key-state.js'
import type { Write } from './write.js'

/** A key's anti-entropy item: the time of its newest write and a digest of its whole state. */
export interface Item {
  readonly time: number
  readonly id: Uint8Array
}

export interface Row {
  readonly state: KeyState
  readonly resolved: Resolved
  readonly item: Item
}

/** What one write or merge did to a key: the table before and after. */
export interface Change {
  readonly key: string
  readonly before: Resolved | undefined
  readonly after: Resolved
}

/** Called when a key's item changes (the anti-entropy index follows the table). */
export type ItemListener = (key: string, before: Item | undefined, after: Item) => void

/**
 * The replicated dictionary in memory: each key's write set and what it resolves to. No timers
 * and no I/O: the socket feeds it writes and states, and turns its changes into events, messages
 * and storage batches.
 */
export class Table {
  readonly rules: SyncRules
  readonly #rows = new Map<string, Row>()
  readonly #maxKeys: number
  readonly #onItem: ItemListener
  #live = 0

  constructor(rules: SyncRules, maxKeys: number, onItem: ItemListener = () => {}) {
    this.rules = rules
    this.#maxKeys = maxKeys
    this.#onItem = onItem
  }

  /** Keys with a value (not deleted). */
  get size(): number {
    return this.#live
  }

  /** Keys known, tombstones included (what maxKeys bounds). */
  get total(): number {
    return this.#rows.size
  }

  row(key: string): Row | undefined {
    return this.#rows.get(key)
  }

  rows(): IterableIterator<[string, Row]> {
    return this.#rows.entries()
  }

  /** Whether a new key would be one too many. */
  full(key: string): boolean {
    return !this.#rows.has(key) && this.#rows.size >= this.#maxKeys
  }

  /** Adds one write. 'full': a new key past maxKeys, not added. */
  insert(key: string, write: Write): { outcome: InsertOutcome | 'full'; change?: Change } {
    if (this.full(key)) return { outcome: 'full' }
    const row = this.#rows.get(key)
    const { key: state, outcome } = insertWrite(row?.state ?? EMPTY_KEY, write, this.rules)
    if (outcome !== 'added') return { outcome }
    return { outcome, change: this.#set(key, row, state) }
  }

  /** Merges a peer's state of a key (anti-entropy). Undefined: nothing changed, or a new key past maxKeys ('full'). */
  merge(key: string, remote: KeyState): Change | 'full' | undefined {
    if (this.full(key)) return 'full'
    const row = this.#rows.get(key)
    const state = mergeKeys(row?.state ?? EMPTY_KEY, remote, this.rules)
    if (state.log.length === 0 && state.base === undefined) return undefined
    const id = keyStateDigest(key, state)
    if (row !== undefined && equalBytes(id, row.item.id)) return undefined
    return this.#set(key, row, state, id)
  }

  /**
   * States restored from storage, trusted as this node wrote them, each with its stored item id
   * (undefined: computed here, as it is when the rules fold the state anew or the key is already
   * here, merged with what came meanwhile). The item listener is not called: the caller rebuilds
   * its index from `rows()` once (AntiEntropy.rebuild). One change per row, in order.
   */
  restoreAll(rows: Iterable<readonly [key: string, state: KeyState, id: Uint8Array | undefined]>): Change[] {
    const changes: Change[] = []
    for (const [key, stored, storedId] of rows) {
      const row = this.#rows.get(key)
      const state = mergeKeys(row?.state ?? EMPTY_KEY, stored, this.rules)
      const id = row === undefined && storedId !== undefined && sameState(state, stored) ? storedId : keyStateDigest(key, state)
      changes.push(this.#set(key, row, state, id, false))
    }
    return changes
  }

  /** `notify`: tell the item listener (not when restoring in bulk). */
  #set(key: string, row: Row | undefined, state: KeyState, id = keyStateDigest(key, state), notify = true): Change {
    const resolved = resolve(state, this.rules)
    const item = { time: keyTime(state), id }
    this.#rows.set(key, { state, resolved, item })
    this.#live += (resolved.value !== undefined ? 1 : 0) - (row?.resolved.value !== undefined ? 1 : 0)
    if (notify) this.#onItem(key, row?.item, item)
    return { key, before: row?.resolved, after: resolved }
  }
}

/** Whether `a` holds the very checkpoint and writes of `b` (nothing folded, dropped or reordered). */
function sameState(a: KeyState, b: KeyState): boolean {
  return a.base === b.base && a.log.length === b.log.length && a.log.every((w, i) => w === b.log[i])
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
