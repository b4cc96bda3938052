import { rawBytes } from './browser/sync-data.js'
import type { Boot } from './browser/sync-page.js'
import type { Wire } from './browser/sync-replica.js'

// Turns the raw numbers of bench/sync-browser.ts into the markdown of docs/BENCHMARKS.md.

export interface Suite {
  name: string
  lib: 'ours' | 'yjs'
  security?: 'signed' | 'unsigned'
}

export interface SuiteResult {
  suite: Suite
  /** Two writers fill the table alone, then 15 pages join one by one and receive it, ms. */
  fillMs?: number
  /** 500 new keys written at once by one page → held by all pages, ms. */
  burstMs?: number
  newcomers: Array<{ keysMs: number; readyMs: number; atKeys: Wire; after3s: Wire; peers: number }>
  /** Links per page before the partition. */
  peersBefore?: number[]
  /** Bytes received per second by all pages together, idle, before the partition. */
  idleBytesPerS?: number
  /** Each half converging on its own changes while split (driver's clock, coarse), ms. */
  splitMs?: number
  heal?: { ms: number; perPageMs: number[]; bytes: number; bytesAfter3s: number; sent: number; background: number }
  /** Ours: the outcome of each cross-half connect() at heal (undefined: linked). */
  healConnects?: Array<string | undefined>
  reloads: Boot[]
  setMs: number[]
  errors: Record<string, number>
  failed?: string
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)
/** Nearest-rank percentile. */
const pct = (xs: number[], q: number): number => sorted(xs)[Math.max(0, Math.ceil(q * xs.length) - 1)] ?? NaN
const median = (xs: number[]): number => pct(xs, 0.5)
const f = (x: number | undefined, digits = 0): string => (x === undefined || Number.isNaN(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }))
const kb = (bytes: number | undefined): string => (bytes === undefined ? '–' : `${f(bytes / 1000, 1)} KB`)
const spread = (xs: number[], digits = 0): string => (xs.length === 0 ? '–' : `${f(median(xs), digits)} (${f(Math.min(...xs), digits)}–${f(Math.max(...xs), digits)})`)
const label = (s: Suite): string => (s.lib === 'yjs' ? 'Yjs + y-webrtc + y-indexeddb' : `ours, ${s.security ?? 'signed'}${s.security === 'unsigned' ? '' : ' (default)'}`)

export function report(results: SuiteResult[], shape: { keys: number; pages: number; changes: number; sets: number; reloadKeys: number; burst: number }): string {
  const raw = Array.from({ length: shape.keys }, (_, i) => rawBytes(i)).reduce((s, x) => s + x, 0)
  const perKey = raw / shape.keys
  const changed = shape.changes * perKey
  // Every page lacks the other half's changes after the heal.
  const lacked = shape.pages * (shape.changes / 2) * perKey
  const row = (what: string, cell: (r: SuiteResult) => string): string => `| ${what} | ${results.map(cell).join(' | ')} |`
  const nc = (r: SuiteResult, pick: (n: SuiteResult['newcomers'][number]) => number): number[] => r.newcomers.map(pick)
  const lines = [
    `| measure | ${results.map((r) => label(r.suite)).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    row(`**1. set → visible at all ${shape.pages} pages**, p50 / p95 of ${shape.sets} (ms)`, (r) => `**${f(pct(r.setMs, 0.5), 1)} / ${f(pct(r.setMs, 0.95), 1)}**`),
    row('  the same, min–max (ms)', (r) => (r.setMs.length === 0 ? '–' : `${f(Math.min(...r.setMs), 1)}–${f(Math.max(...r.setMs), 1)}`)),
    row(`**2. newcomer: join → all ${f(shape.keys)} keys** (ms), median (min–max) of ${results[0]?.newcomers.length ?? 0}`, (r) => `**${spread(nc(r, (n) => n.keysMs))}**`),
    row('  newcomer: join → ready() (ms)', (r) => spread(nc(r, (n) => n.readyMs))),
    row('  **bytes the newcomer received** over its data channels until it had all keys, median', (r) => `**${kb(median(nc(r, (n) => n.atKeys.received)))}**`),
    row(`  the same ÷ raw key + value bytes (${kb(raw)}; goal ≤ 0.3)`, (r) => `**${f(median(nc(r, (n) => n.atKeys.received)) / raw, 2)}×**`),
    row('  received by 3 s after that (late duplicates, keepalives)', (r) => kb(median(nc(r, (n) => n.after3s.received)))),
    row('  bytes the newcomer sent until it had all keys', (r) => kb(median(nc(r, (n) => n.atKeys.sent)))),
    row('  signaling WebSocket bytes, received + sent, by +3 s', (r) => kb(median(nc(r, (n) => n.after3s.wsReceived + n.after3s.wsSent)))),
    row('  links the newcomer had at +3 s', (r) => spread(nc(r, (n) => n.peers))),
    row(`**3. heal: time until all ${shape.pages} pages hold all ${shape.changes} changes** (ms)`, (r) => `**${f(r.heal?.ms)}**`),
    row('  the same, median page (ms)', (r) => f(r.heal === undefined ? undefined : median(r.heal.perPageMs))),
    row(`  **bytes received by all pages**, heal → converged (B/s idle × time included)`, (r) => `**${kb(r.heal?.bytes)}**`),
    row(`  the same ÷ what the pages lacked (${shape.pages} × ${shape.changes / 2} × ${f(perKey)} B = ${kb(lacked)}; goal ≤ 2)`, (r) => `**${f(r.heal === undefined ? undefined : r.heal.bytes / lacked, 1)}×**`),
    row(`  the same ÷ the changed data (${shape.changes} × ${f(perKey)} B = ${kb(changed)})`, (r) => `${f(r.heal === undefined ? undefined : r.heal.bytes / changed, 1)}×`),
    row('  bytes received by all pages by 3 s after convergence', (r) => kb(r.heal?.bytesAfter3s)),
    row('  idle traffic of all pages before the split (B/s); its share of the heal bytes', (r) => (r.heal === undefined ? '–' : `${f(r.idleBytesPerS)}; ${kb(r.heal.background)}`)),
    row('  links per page before the split, median (min–max)', (r) => spread(r.peersBefore ?? [])),
    row('  each half on its own 50 changes while split (ms, driver clock)', (r) => f(r.splitMs)),
    row(`**4. reload with ${f(shape.reloadKeys)} keys, alone: construction → all keys from IndexedDB** (ms), median (min–max) of ${results[0]?.reloads.length ?? 0}`, (r) => `**${spread(r.reloads.map((b) => b.keysMs))}**`),
    row('  construction → ready() (ours: restored, and alone on its signaling server; Yjs: whenSynced)', (r) => spread(r.reloads.map((b) => b.readyMs))),
    row('  keys held when ready() resolved', (r) => spread(r.reloads.map((b) => b.sizeAtReady))),
    row('  navigation start → construction (module loading from the dev server)', (r) => spread(r.reloads.map((b) => b.loadMs))),
    row(`**5. burst: ${shape.burst} new keys written at once by one page** (ours \`update()\`, Yjs one transaction) → held by all ${shape.pages} pages (ms)`, (r) => `**${f(r.burstMs)}**`),
    row(`set-up: two pages write ${f(shape.keys / 2)} keys each alone, then ${shape.pages - 1} pages join one by one, each until it holds all (s)`, (r) => f(r.fillMs === undefined ? undefined : r.fillMs / 1000, 1)),
    row('errors the sockets reported (code × count)', (r) => Object.entries(r.errors).map(([c, n]) => `${c} × ${n}`).join(', ') || 'none'),
  ]
  const failed = results.filter((r) => r.failed !== undefined)
  for (const r of failed) lines.push('', `**${r.suite.name} FAILED**: ${r.failed}`)
  const connects = results.filter((r) => r.healConnects?.some((c) => c !== undefined))
  for (const r of connects) lines.push('', `${r.suite.name}: cross-half connect() at heal: ${r.healConnects!.map((c) => c ?? 'ok').join(', ')}`)
  return lines.join('\n')
}
