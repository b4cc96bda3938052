/** Resolves on the next macrotask: `setImmediate` (Node), else a MessageChannel message (browsers), which hidden tabs do not throttle. */
export function nextMacrotask(): Promise<void> {
  const setImmediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve))
  if (typeof MessageChannel !== 'function') return new Promise((resolve) => setTimeout(resolve, 0))
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => {
      channel.port1.close()
      resolve()
    }
    channel.port2.postMessage(null)
  })
}

/**
 * Gives the page a turn (input, rendering) between chunks of long work, without the timer
 * throttling of hidden tabs: a chained `setTimeout(0)` is held to one wake-up per second in a
 * hidden Chromium tab, and to one per minute after five minutes hidden (docs/BENCHMARKS.md,
 * *Hidden tabs*). `scheduler.yield()` where the browser has it (it also lets input run first),
 * else the next macrotask (`nextMacrotask`).
 */
export function yieldToPage(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler
  return typeof scheduler?.yield === 'function' ? scheduler.yield() : nextMacrotask()
}
