/**
 * Time as an injected service. Protocol code never calls `Date.now()` or `setTimeout` directly:
 * it takes a `Clock`, so tests can run keepalives and timeouts in virtual time (a fake clock, or
 * the simulated network's clock) instead of sleeping.
 */

declare const timerHandleBrand: unique symbol

/** An opaque timer handle; only the clock that made it can clear it. */
export type TimerHandle = { readonly [timerHandleBrand]: true }

export interface Clock {
  /** Milliseconds. Wall-clock epoch time for `systemClock`; virtual time for test clocks. */
  now(): number
  /** Calls `fn` once, `ms` (>= 0) milliseconds from now. Timers due at the same time fire in the order they were set. */
  setTimeout(fn: () => void, ms: number): TimerHandle
  /** Cancels a pending timer. Clearing a fired, cleared or undefined handle does nothing. */
  clearTimeout(handle: TimerHandle | undefined): void
}

/** The real clock: `Date.now()` and the host's timers. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => globalThis.setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle: TimerHandle | undefined) => {
    if (handle !== undefined) globalThis.clearTimeout(handle as unknown as ReturnType<typeof globalThis.setTimeout>)
  },
})
