import type { MeshStats } from 'p2p-today'
import { el } from './dom.js'

const COUNTERS: readonly [testId: string, label: string, show: (s: MeshStats) => string][] = [
  ['stat-peers', 'Peers', (s) => String(s.peers)],
  ['stat-messages-in', 'Messages in', (s) => String(s.messagesIn)],
  ['stat-messages-out', 'Messages out', (s) => String(s.messagesOut)],
  ['stat-bytes-in', 'Bytes in', (s) => String(s.bytesIn)],
  ['stat-bytes-out', 'Bytes out', (s) => String(s.bytesOut)],
  ['stat-delivered', 'Delivered', (s) => String(s.delivered)],
  ['stat-relayed', 'Relayed', (s) => String(s.relayed)],
  ['stat-duplicates', 'Duplicates dropped', (s) => String(s.duplicates)],
  ['stat-compression', 'Compression ratio', (s) => s.compressionRatio.toFixed(2)],
  ['stat-bad-frames', 'Bad frames', (s) => String(s.badFrames)],
  ['stat-forged', 'Forged dropped', (s) => String(s.forged)],
  ['stat-rate-limited', 'Rate-limited', (s) => String(s.rateLimited)],
  ['stat-reach-checks', 'Reach checks', (s) => String(s.reachChecks)],
  ['stat-bridges', 'Links across a cut', (s) => String(s.bridges)],
]

export interface StatsPanel {
  section: HTMLElement
  /** Shows `stats`, or dashes when there is no mesh. */
  show(stats: MeshStats | undefined): void
}

/** Counters from `mesh.stats`; the page refreshes them every second. */
export function createStatsPanel(): StatsPanel {
  const section = el('section', { class: 'panel', 'data-testid': 'stats-panel' })
  const grid = el('dl', { class: 'stats' })
  const cells = COUNTERS.map(([testId, label, show]) => {
    const value = el('dd', { 'data-testid': testId }, '–')
    const cell = el('div', { class: 'stat' })
    cell.append(el('dt', {}, label), value)
    grid.append(cell)
    return { value, show }
  })
  section.append(el('h2', {}, 'Counters'), grid)
  return {
    section,
    show(stats) {
      for (const { value, show } of cells) value.textContent = stats === undefined ? '–' : show(stats)
    },
  }
}
