/**
 * Waiting on state in tests against REAL time (WebRTC, the signaling server, the memory
 * transport driven by the real event loop).
 *
 * Prefer, in order: awaiting the promise the code exposes (`ready()`, `close()`, `send()`), an
 * event promise (`nextEvent` in util/emitter), then `waitFor`. Tests on the simulated network
 * must not use `waitFor`: its polling runs in real time while the simulation only moves when
 * driven. Use `net.runUntil(predicate)` there (deterministic, and fails fast when the network
 * goes idle). Against a FakeClock, advance the clock instead.
 */

export class WaitForTimeoutError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'WaitForTimeoutError'
  }
}

export interface WaitForOptions {
  /** Real ms before giving up. Default 5000. */
  timeoutMs?: number
  /** Real ms between checks. Default 10. */
  intervalMs?: number
  /** What is awaited, for the timeout message ("b to receive 3 messages"). */
  what?: string
}

/**
 * Resolves as soon as `predicate()` returns true (checked at once, then every `intervalMs`);
 * rejects with WaitForTimeoutError after `timeoutMs`. A predicate that throws counts as false;
 * the last error becomes the timeout's `cause` (so `expect(...)` works as a predicate too).
 */
export function waitFor(predicate: () => boolean | Promise<boolean>, options: WaitForOptions = {}): Promise<void> {
  const { timeoutMs = 5_000, intervalMs = 10, what = 'condition' } = options
  const started = Date.now()
  return new Promise((resolve, reject) => {
    let lastError: unknown
    // Each timer is followed by a check that resolves, rejects or sets the next one: none outlives the promise.
    const check = async (): Promise<void> => {
      try {
        if (await predicate()) return resolve()
        lastError = undefined
      } catch (err: unknown) {
        lastError = err
      }
      const elapsed = Date.now() - started
      if (elapsed >= timeoutMs) {
        const message = `waitFor: timed out after ${elapsed} ms waiting for ${what}`
        return reject(new WaitForTimeoutError(message, lastError === undefined ? {} : { cause: lastError }))
      }
      setTimeout(() => void check(), Math.min(intervalMs, timeoutMs - elapsed))
    }
    void check()
  })
}
