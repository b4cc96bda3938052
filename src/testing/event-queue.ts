import { nextMacrotask } from '../util/yield.js'
import type { Clock, TimerHandle } from '../util/clock.js'

/**
 * The discrete-event core shared by the fake clock and the simulated network: a min-heap of
 * events ordered by (time, tie, seq) and virtual clocks whose timers live in it.
 */

export type QueuedEvent = {
  readonly time: number
  /** Orders events due at the same time (lower first); `seq` then orders equal ties FIFO. */
  readonly tie: number
  readonly seq: number
  readonly run: () => void
  state: 'pending' | 'cancelled' | 'fired'
}

export class EventQueue {
  readonly #heap: QueuedEvent[] = []
  readonly #onSchedule: (() => void) | undefined
  #seq = 0
  #live = 0

  /** `onSchedule` is called after every schedule() (e.g. to wake a driver waiting for work). */
  constructor(onSchedule?: () => void) {
    this.#onSchedule = onSchedule
  }

  /** Pending (not cancelled) events. */
  get size(): number {
    return this.#live
  }

  schedule(time: number, run: () => void, tie = 0): QueuedEvent {
    const event: QueuedEvent = { time, tie, seq: this.#seq++, run, state: 'pending' }
    const heap = this.#heap
    heap.push(event)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(event, heap[parent] as QueuedEvent)) break
      heap[i] = heap[parent] as QueuedEvent
      i = parent
    }
    heap[i] = event
    this.#live++
    this.#onSchedule?.()
    return event
  }

  cancel(event: QueuedEvent): void {
    if (event.state !== 'pending') return
    event.state = 'cancelled'
    this.#live--
  }

  /** Time of the next pending event. */
  peekTime(): number | undefined {
    this.#dropCancelled()
    return this.#heap[0]?.time
  }

  /** Removes and returns the next pending event, marked fired (the caller runs it). */
  pop(): QueuedEvent | undefined {
    this.#dropCancelled()
    const top = this.#removeTop()
    if (top === undefined) return undefined
    top.state = 'fired'
    this.#live--
    return top
  }

  #dropCancelled(): void {
    while (this.#heap[0]?.state === 'cancelled') this.#removeTop()
  }

  #removeTop(): QueuedEvent | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= heap.length) break
      const r = l + 1
      const child = r < heap.length && before(heap[r] as QueuedEvent, heap[l] as QueuedEvent) ? r : l
      if (!before(heap[child] as QueuedEvent, last)) break
      heap[i] = heap[child] as QueuedEvent
      i = child
    }
    heap[i] = last
    return top
  }
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  if (a.time !== b.time) return a.time < b.time
  if (a.tie !== b.tie) return a.tie < b.tie
  return a.seq < b.seq
}

/**
 * A Clock whose timers are events in an EventQueue. Timers due at the same time fire in the
 * order they were set (per clock); across clocks, `tie` (e.g. a seeded random draw) orders them.
 */
export class VirtualClock implements Clock {
  readonly #queue: EventQueue
  readonly #now: () => number
  readonly #tie: (time: number) => number
  readonly #timers = new Set<QueuedEvent>()
  readonly #lastTie = new Map<number, number>()
  #stopped = false

  constructor(queue: EventQueue, now: () => number, tie: (time: number) => number = () => 0) {
    this.#queue = queue
    this.#now = now
    this.#tie = tie
  }

  now(): number {
    return this.#now()
  }

  /** Pending timers of this clock. */
  get pending(): number {
    return this.#timers.size
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const now = this.#now()
    const time = now + (ms > 0 ? ms : 0) // NaN and negatives mean 0, as with the host's setTimeout
    if (this.#stopped) return { stopped: true } as unknown as TimerHandle
    if (this.#lastTie.size > 256) for (const t of this.#lastTie.keys()) if (t < now) this.#lastTie.delete(t)
    const tie = Math.max(this.#tie(time), this.#lastTie.get(time) ?? -Infinity)
    this.#lastTie.set(time, tie)
    const event = this.#queue.schedule(
      time,
      () => {
        this.#timers.delete(event)
        fn()
      },
      tie,
    )
    this.#timers.add(event)
    return event as unknown as TimerHandle
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    const event = handle as unknown as QueuedEvent
    if (!this.#timers.delete(event)) return
    this.#queue.cancel(event)
  }

  /** Cancels every pending timer; later setTimeout calls return handles that never fire. */
  stop(): void {
    this.#stopped = true
    for (const event of this.#timers) this.#queue.cancel(event)
    this.#timers.clear()
    this.#lastTie.clear()
  }
}

/**
 * Resolves after every queued microtask has run (one macrotask hop), so async code triggered by
 * an event gets to its next await point before the next event.
 */
export function settle(): Promise<void> {
  return nextMacrotask()
}
