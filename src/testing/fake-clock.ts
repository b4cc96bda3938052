import type { Clock, TimerHandle } from '../util/clock.js'
import { EventQueue, VirtualClock, settle } from './event-queue.js'

/**
 * A manual Clock for unit tests that do not need a whole network: time moves only when the test
 * calls `advance()` / `runAll()`. Timers fire in due order (FIFO when due together), each with
 * `now()` equal to its due time. A timer callback that throws propagates out of advance/runAll.
 *
 * The sync methods run timer callbacks back to back; use the `*Async` variants when the code
 * under test awaits between timers (they let microtasks settle after each timer).
 */
export class FakeClock implements Clock {
  readonly #queue = new EventQueue()
  readonly #clock: VirtualClock
  #now: number

  constructor(options: { startTime?: number } = {}) {
    this.#now = options.startTime ?? 0
    this.#clock = new VirtualClock(this.#queue, () => this.#now)
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#clock.setTimeout(fn, ms)
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.#clock.clearTimeout(handle)
  }

  /** Pending timers. */
  get pending(): number {
    return this.#queue.size
  }

  /** Moves time forward by `ms`, firing every timer due by then (including ones set meanwhile). */
  advance(ms: number): void {
    const target = this.#now + ms
    while (this.#fireNext(target));
    this.#now = Math.max(this.#now, target)
  }

  /** Fires timers until none is left; throws RangeError after `maxTimers` (a timer that keeps re-arming). */
  runAll(maxTimers = 10_000): void {
    for (let fired = 0; this.#fireNext(Infinity); ) {
      if (++fired >= maxTimers && this.#queue.size > 0) throw new RangeError(`runAll(): still ${this.#queue.size} timers after ${maxTimers}`)
    }
  }

  /** `advance()`, letting microtasks settle before and after each timer. */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms
    await settle()
    while (this.#fireNext(target)) await settle()
    this.#now = Math.max(this.#now, target)
  }

  /** `runAll()`, letting microtasks settle before and after each timer. */
  async runAllAsync(maxTimers = 10_000): Promise<void> {
    await settle()
    for (let fired = 0; this.#fireNext(Infinity); ) {
      await settle()
      if (++fired >= maxTimers && this.#queue.size > 0) throw new RangeError(`runAllAsync(): still ${this.#queue.size} timers after ${maxTimers}`)
    }
  }

  #fireNext(until: number): boolean {
    const due = this.#queue.peekTime()
    if (due === undefined || due > until) return false
    const event = this.#queue.pop()
    if (event === undefined) return false
    this.#now = Math.max(this.#now, event.time)
    event.run()
    return true
  }
}
