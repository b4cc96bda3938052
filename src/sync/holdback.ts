import type { Write } from './write.js'

/** When a write stamped `ms` may take effect on a replica whose clock reads `now`: at once, or later. */
export function dueAt(ms: number, now: number, maxDriftMs: number): number | undefined {
  return ms - now > maxDriftMs ? ms - maxDriftMs : undefined
}

export interface HeldWrite {
  readonly key: string
  readonly write: Write
  readonly due: number
}

/**
 * Writes stamped too far in the future, held until their time comes (then every replica applies
 * them, so all still end up alike). Bounded: past `max` the held write due last is dropped.
 */
export class HoldBack {
  readonly #max: number
  #held: HeldWrite[] = []
  dropped = 0

  constructor(max: number) {
    this.#max = max
  }

  get size(): number {
    return this.#held.length
  }

  /** The earliest due time, if any write is held. */
  get next(): number | undefined {
    return this.#held[0]?.due
  }

  /** Holds a write; returns false when it was dropped for the bound (it, or the one due last). */
  hold(entry: HeldWrite): boolean {
    let i = this.#held.length
    while (i > 0 && this.#held[i - 1]!.due > entry.due) i--
    this.#held.splice(i, 0, entry)
    if (this.#held.length <= this.#max) return true
    const last = this.#held.pop()!
    this.dropped++
    return last !== entry
  }

  /** Takes the writes due by `now`, earliest first. */
  takeDue(now: number): HeldWrite[] {
    let n = 0
    while (n < this.#held.length && this.#held[n]!.due <= now) n++
    return this.#held.splice(0, n)
  }
}
