import { BoundedMap } from '../util/bounded-map.js'

/**
 * Nodes this socket may dial, with exponential backoff per node after failures. Pure: the
 * caller passes `now` and a random source.
 */
export const BACKOFF = Object.freeze({ baseMs: 1_000, maxMs: 60_000, jitter: 0.5 })

type Entry = { failures: number; nextAttempt: number }

export class Candidates {
  readonly #random: () => number
  /** Learned longest ago first. */
  readonly #entries: BoundedMap<string, Entry>

  constructor(max: number, random: () => number) {
    this.#entries = new BoundedMap(max)
    this.#random = random
  }

  get size(): number {
    return this.#entries.size
  }

  /** Learns of `id` (from bootstrap or a peers message). The oldest entries go past `max`. */
  add(id: string, now: number): void {
    if (this.#entries.has(id)) return
    this.#entries.set(id, { failures: 0, nextAttempt: now })
  }

  forget(id: string): void {
    this.#entries.delete(id)
  }

  succeeded(id: string): void {
    const e = this.#entries.get(id)
    if (e !== undefined) e.failures = 0
  }

  /** After a failed dial: try again after base·2^failures (capped), ± jitter. */
  failed(id: string, now: number): void {
    const e = this.#entries.get(id)
    if (e === undefined) return
    e.failures++
    const delay = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** (e.failures - 1))
    e.nextAttempt = now + delay * (1 - BACKOFF.jitter / 2 + this.#random() * BACKOFF.jitter)
  }

  /** A random candidate due now that `eligible` accepts. */
  pick(now: number, eligible: (id: string) => boolean): string | undefined {
    const due = [...this.#entries].filter(([id, e]) => e.nextAttempt <= now && eligible(id)).map(([id]) => id)
    if (due.length === 0) return undefined
    return due[Math.floor(this.#random() * due.length)]
  }

  /** When the next backed-off candidate becomes due, if any is waiting. */
  nextAttemptAt(now: number): number | undefined {
    let next: number | undefined
    for (const e of this.#entries.values()) if (e.nextAttempt > now && (next === undefined || e.nextAttempt < next)) next = e.nextAttempt
    return next
  }
}
