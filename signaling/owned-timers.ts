/**
 * PeerJS server 1.0.2 starts two self-rescheduling setTimeout loops when it is mounted
 * (expired-message pruning and broken-connection checks) and has no API to stop them
 * (peers/peerjs-server#211): a closed server would keep the process alive forever.
 *
 * `owner.run(fn)` runs `fn` with the global setTimeout swapped for a version that records
 * (and unrefs) every timer created, and runs those timers' callbacks the same way, so timers
 * they schedule are recorded too. The swap only lasts for synchronous runs of that code;
 * `owner.clear()` then cancels whatever is still pending.
 */

/** Where the recorded timers really live (the platform's timers unless a test injects some). */
export interface Scheduler<T extends { unref(): unknown } = { unref(): unknown }> {
  setTimeout(callback: () => void, ms?: number): T
  clearTimeout(timer: T): void
}

const native: Scheduler<ReturnType<typeof setTimeout>> = {
  setTimeout: globalThis.setTimeout.bind(globalThis),
  clearTimeout: globalThis.clearTimeout.bind(globalThis),
}

export class TimerOwner<T extends { unref(): unknown } = ReturnType<typeof setTimeout>> {
  readonly #scheduler: Scheduler<T>
  readonly #pending = new Set<T>()
  #cleared = false

  constructor(scheduler?: Scheduler<T>) {
    this.#scheduler = scheduler ?? (native as unknown as Scheduler<T>)
  }

  /** Pending timers recorded. */
  get size(): number {
    return this.#pending.size
  }

  /** Cancels every pending recorded timer; later recorded timers are cancelled at once. Idempotent. */
  clear(): void {
    this.#cleared = true
    for (const timer of this.#pending) this.#scheduler.clearTimeout(timer)
    this.#pending.clear()
  }

  run<R>(fn: () => R): R {
    const previous = globalThis.setTimeout
    globalThis.setTimeout = this.#setTimeout as unknown as typeof setTimeout
    try {
      return fn()
    } finally {
      globalThis.setTimeout = previous
    }
  }

  readonly #setTimeout = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): T => {
    const timer = this.#scheduler.setTimeout(() => {
      this.#pending.delete(timer)
      this.run(() => callback(...args))
    }, ms)
    timer.unref()
    if (this.#cleared) this.#scheduler.clearTimeout(timer)
    else this.#pending.add(timer)
    return timer
  }
}
