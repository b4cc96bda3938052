/**
 * A hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks and Consistent
 * Snapshots in Globally Distributed Databases", 2014): timestamps (ms, counter) that follow the
 * physical clock, yet never go backwards and always order a message after what its sender had
 * seen. With the writer's id as the last tie-break they totally order writes without trusting any
 * wall clock. Pure: the physical time is the caller's (`now` in ms), so tests drive it with numbers.
 *
 * The sync table stamps its writes with it; the chord table versions its values with it.
 */
export interface Hlc {
  /** Milliseconds: the largest physical time this clock has seen (its own or a peer's). */
  readonly ms: number
  /** Orders events within one `ms`. */
  readonly counter: number
}

/** Counters above this carry into `ms` (one millisecond ahead of physical time, never wrapping). */
export const HLC_MAX_COUNTER = 0xffff

export const HLC_DEFAULTS = Object.freeze({
  /** A remote stamp further ahead of our physical clock than this is not absorbed (see `observe`). */
  maxDriftMs: 5 * 60_000,
})

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareHlc(a: Hlc, b: Hlc): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.counter - b.counter
}

/** Whether `v` is a timestamp a peer may send: non-negative safe integers, the counter in range. */
export function isHlc(v: unknown): v is Hlc {
  if (typeof v !== 'object' || v === null) return false
  const { ms, counter } = v as { ms?: unknown; counter?: unknown }
  return Number.isSafeInteger(ms) && (ms as number) >= 0 && Number.isSafeInteger(counter) && (counter as number) >= 0 && (counter as number) <= HLC_MAX_COUNTER
}

export class HybridClock {
  readonly maxDriftMs: number
  #ms = 0
  #counter = 0

  constructor(options: Partial<typeof HLC_DEFAULTS> = {}, last?: Hlc) {
    this.maxDriftMs = options.maxDriftMs ?? HLC_DEFAULTS.maxDriftMs
    if (!(this.maxDriftMs >= 0)) throw new RangeError('maxDriftMs must be >= 0')
    // Restored from storage: never stamp below what this node stamped before a reload.
    if (last !== undefined) {
      this.#ms = last.ms
      this.#counter = last.counter
    }
  }

  /** The last timestamp this clock gave or absorbed. */
  get last(): Hlc {
    return { ms: this.#ms, counter: this.#counter }
  }

  /** A timestamp for a local event (a write), after every one before it. */
  tick(now: number): Hlc {
    const pt = Math.floor(now)
    if (pt > this.#ms) {
      this.#ms = pt
      this.#counter = 0
    } else {
      this.#bump()
    }
    return this.last
  }

  /**
   * Absorbs a peer's timestamp, so that our next stamps order after it. Returns 'ahead' — and
   * absorbs nothing — when it is more than `maxDriftMs` ahead of our physical clock: one peer's
   * runaway clock must not drag every replica's forward. The caller holds such a write back until
   * its time comes (then observes it again).
   */
  observe(remote: Hlc, now: number): 'ok' | 'ahead' {
    const pt = Math.floor(now)
    if (remote.ms - pt > this.maxDriftMs) return 'ahead'
    const l = Math.max(this.#ms, remote.ms, pt)
    if (l === this.#ms && l === remote.ms) this.#counter = Math.max(this.#counter, remote.counter)
    else if (l === remote.ms) this.#counter = remote.counter
    else if (l !== this.#ms) this.#counter = -1
    this.#ms = l
    this.#bump()
    return 'ok'
  }

  /** counter + 1; past HLC_MAX_COUNTER, the next millisecond (the clock stays ahead of no one by more than that). */
  #bump(): void {
    if (this.#counter < HLC_MAX_COUNTER) {
      this.#counter++
      return
    }
    this.#ms++
    this.#counter = 0
  }
}
