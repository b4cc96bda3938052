/**
 * Gives the page a turn (input, rendering) between chunks of long work, without the timer
 * throttling of hidden tabs: a chained `setTimeout(0)` is held to one wake-up per second in a
 * hidden Chromium tab, and to one per minute after five minutes hidden, while a MessageChannel
 * message is a task the browser does not throttle. `scheduler.yield()` where the browser has it
 * (it also lets input run first), else a MessageChannel message, else `setImmediate` (Node).
 */
export function yieldToPage(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler
  if (typeof scheduler?.yield === 'function') return scheduler.yield()
  if (typeof MessageChannel === 'function' && typeof document !== 'undefined') {
    return new Promise((resolve) => {
      const channel = new MessageChannel()
      channel.port1.onmessage = () => {
        channel.port1.close()
        resolve()
      }
      channel.port2.postMessage(null)
    })
  }
  const setImmediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)))
}
