import { SyncError, type SyncMeta } from 'p2p-today'
import { el, shortId } from './dom.js'
import { errorCode } from './errors.js'

/** Rows shown at most; the count says how many keys there are. */
export const MAX_ROWS = 200

/** What a row's buttons ask for. */
export type RowAction = 'edit' | 'delete' | 'release'

/** What the table view reads: a SyncSocket's reading side. */
export interface TableSource {
  keys(): Iterable<string>
  get(key: string): unknown
  meta(key: string): SyncMeta | undefined
}

/** A value as the page shows it: a string as is, anything else as JSON. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'bigint' ? `${v}n` : v))
  } catch {
    return String(value)
  }
}

/** What the value input holds, as a value: JSON when it parses as JSON (not null), else the text. */
export function parseValue(text: string): unknown {
  try {
    const v: unknown = JSON.parse(text)
    if (v !== null) return v
  } catch {
    // plain text
  }
  return text
}

/** Whole seconds left until `at` (0 once passed). */
export function secondsLeft(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000))
}

/** Time left until `at`, roughly: "42 s" under two minutes, else "59 min". */
export function timeLeft(at: number, now: number): string {
  const s = secondsLeft(at, now)
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min`
}

/** A countdown that moves every second: "42 s", "62 min 05 s". */
export function countdown(at: number, now: number): string {
  const s = secondsLeft(at, now)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
}

/** Why a write was refused, for the status line: "LEASE_HELD: held by 3xYabcde…, 62 min left", else the code. */
export function refusal(err: unknown, now: number): string {
  if (err instanceof SyncError && err.code === 'LEASE_HELD') {
    const who = err.owner === undefined ? 'another node' : `${shortId(err.owner)}…`
    return `LEASE_HELD: held by ${who}${err.expiresAt === undefined ? '' : `, ${timeLeft(err.expiresAt, now)} left`}`
  }
  return errorCode(err)
}

interface Row {
  tr: HTMLTableRowElement
  value: HTMLTableCellElement
  owner: HTMLTableCellElement
  lease: HTMLTableCellElement
  release: HTMLButtonElement
}

/**
 * The table's rows, kept by key: a refresh updates the cells in place (a button under the pointer
 * stays the same element), adds and removes rows, and re-orders only when the keys changed.
 */
export class SyncRows {
  readonly table = el('table', { class: 'sync-table', 'data-testid': 'sync-table' })
  readonly #body = el('tbody')
  readonly #rows = new Map<string, Row>()
  #order: string[] = []

  constructor(act: (action: RowAction, key: string) => void) {
    const head = el('tr')
    for (const title of ['Key', 'Value', 'Owner', 'Lease', '']) head.append(el('th', {}, title))
    this.table.append(el('thead'), this.#body)
    this.table.tHead!.append(head)
    this.#body.addEventListener('click', (e) => {
      const button = (e.target as Element).closest('button')
      const key = button?.closest('tr')?.dataset.key
      const action = button?.dataset.action as RowAction | undefined
      if (key !== undefined && action !== undefined) act(action, key)
    })
  }

  /** Shows the first MAX_ROWS keys of `source` in key order; returns how many keys it has. */
  render(source: TableSource | undefined, me: string | undefined, now: number): number {
    const keys = source === undefined ? [] : [...source.keys()].sort()
    const shown = keys.slice(0, MAX_ROWS)
    const showing = new Set(shown)
    for (const [key, row] of this.#rows) {
      if (showing.has(key)) continue
      row.tr.remove()
      this.#rows.delete(key)
    }
    for (const key of shown) this.#fill(this.#rows.get(key) ?? this.#add(key), source!.get(key), source!.meta(key), me, now)
    if (shown.length !== this.#order.length || shown.some((k, i) => this.#order[i] !== k)) {
      this.#body.append(...shown.map((k) => this.#rows.get(k)!.tr))
      this.#order = shown
    }
    return keys.length
  }

  #add(key: string): Row {
    const tr = el('tr', { 'data-testid': 'sync-row', 'data-key': key })
    const value = el('td', { class: 'value', 'data-testid': 'sync-row-value' })
    const owner = el('td', { class: 'mono', 'data-testid': 'sync-row-owner' })
    const lease = el('td', { class: 'lease', 'data-testid': 'sync-row-lease' })
    const actions = el('td', { class: 'actions' })
    const release = el('button', { 'data-action': 'release', 'data-testid': 'sync-row-release', title: 'give up my lease now' }, 'Release')
    actions.append(
      el('button', { 'data-action': 'edit', 'data-testid': 'sync-row-edit' }, 'Edit'),
      el('button', { 'data-action': 'delete', 'data-testid': 'sync-row-delete' }, 'Delete'),
      release,
    )
    tr.append(el('td', { class: 'mono', 'data-testid': 'sync-row-key' }, key), value, owner, lease, actions)
    const row = { tr, value, owner, lease, release }
    this.#rows.set(key, row)
    return row
  }

  #fill(row: Row, value: unknown, meta: SyncMeta | undefined, me: string | undefined, now: number): void {
    const owner = meta?.owner
    const mine = owner !== undefined && owner === me
    set(row.value, showValue(value))
    set(row.owner, owner === undefined ? '–' : mine ? 'me' : shortId(owner))
    row.owner.title = owner ?? ''
    row.tr.dataset.owner = owner ?? ''
    const end = meta?.expiresAt
    set(row.lease, end === undefined ? '–' : countdown(end, now))
    row.lease.dataset.seconds = end === undefined ? '' : String(secondsLeft(end, now))
    row.release.hidden = !mine
  }
}

/** Writes text only when it changed (no needless DOM mutations every second). */
function set(cell: HTMLElement, text: string): void {
  if (cell.textContent !== text) cell.textContent = text
}
