/**
 * A small typed event emitter. `on()` returns its own unsubscribe function; a listener that
 * throws is reported to `onListenerError` (default: console.error) and does not stop the others
 * or the emitting code.
 */
export type Listener<A extends unknown[]> = (...args: A) => void
export type EventMap = { [event: string]: unknown[] }

export class Emitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<Listener<never[]>>>()
  readonly #onListenerError: (err: unknown, event: keyof E) => void

  constructor(onListenerError?: (err: unknown, event: keyof E) => void) {
    this.#onListenerError =
      onListenerError ?? ((err, event) => console.error(`p2p-today: a '${String(event)}' listener threw`, err))
  }

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    const entry = fn as unknown as Listener<never[]>
    set.add(entry)
    return () => {
      set.delete(entry)
    }
  }

  /** Like `on`, removed after the first call. */
  once<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const off = this.on(event, (...args) => {
      off()
      fn(...args)
    })
    return off
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event)
    if (set === undefined) return
    for (const fn of [...set]) {
      try {
        ;(fn as unknown as Listener<E[K]>)(...args)
      } catch (err: unknown) {
        this.#onListenerError(err, event)
      }
    }
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0
  }

  removeAll(): void {
    this.#listeners.clear()
  }

  /** Emits `event` a last time, then removes every listener: nothing fires after it (a 'close'). */
  emitLast<K extends keyof E>(event: K, ...args: E[K]): void {
    this.emit(event, ...args)
    this.removeAll()
  }
}

/** Resolves with the event's arguments the next time it fires (tests and ready() helpers). */
export function nextEvent<E extends EventMap, K extends keyof E>(emitter: Emitter<E>, event: K): Promise<E[K]> {
  return new Promise((resolve) => {
    emitter.once(event, (...args) => resolve(args))
  })
}
