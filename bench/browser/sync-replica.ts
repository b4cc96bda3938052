// What the sync bench drives in a page, the same for both libraries: a replicated string table
// (our SyncSocket, or a Yjs Y.Map over y-webrtc + y-indexeddb), and when each key last changed.

/** One clock for every page of the browser: the machine's (timeOrigin + now()). */
export const abs = (): number => performance.timeOrigin + performance.now()

/** Bytes the page's data channels and WebSockets carried (counted by the init script, bench/sync-setup.ts). */
export interface Wire {
  sent: number
  received: number
  wsSent: number
  wsReceived: number
  channels: number
}
export const wire = (): Wire => ({ ...(window as unknown as { __wire: Wire }).__wire })

export interface Replica {
  /** The node id (ours) or the y-webrtc peer id (Yjs). */
  readonly id: string
  size(): number
  get(key: string): unknown
  /** One write (ours: set(); Yjs: map.set()). */
  set(key: string, value: string): Promise<void>
  /** Several writes at once (ours: update(); Yjs: one transaction). */
  setMany(entries: Array<[string, string]>): Promise<void>
  /** Ours: ready(); Yjs: y-indexeddb's whenSynced. */
  ready(): Promise<void>
  /** Neighbours linked now (ours: mesh peers; Yjs: connected y-webrtc peers). */
  peers(): string[]
  close(): Promise<void>
}

/** Follows a replica's changes: when each key last changed, and waits for wanted values. */
export class Tracker {
  readonly changedAt = new Map<string, number>()
  readonly #waiters = new Set<(key: string) => void>()
  /** Keys changed, in total (every source). */
  changes = 0

  constructor(readonly replica: () => Replica | undefined) {}

  changed(key: string): void {
    this.changes++
    this.changedAt.set(key, abs())
    for (const w of this.#waiters) w(key)
  }

  /** Calls `fn` on every change from now on; returns its disposer. */
  listen(fn: (key: string) => void): () => void {
    this.#waiters.add(fn)
    return () => this.#waiters.delete(fn)
  }

  /**
   * Resolves when the replica holds every key's value in `want`: the time the last one arrived
   * (when all were there already: the latest of their changes), and the page's wire counters then.
   */
  waitFor(want: Map<string, string>): Promise<{ at: number; wire: Wire }> {
    const r = this.replica()
    if (r === undefined) throw new Error('no replica in this page')
    const pending = new Map([...want].filter(([key, value]) => r.get(key) !== value))
    if (pending.size === 0) {
      const at = [...want.keys()].reduce((m, key) => Math.max(m, this.changedAt.get(key) ?? 0), 0)
      return Promise.resolve({ at, wire: wire() })
    }
    return new Promise((resolve) => {
      const check = (key: string): void => {
        const value = pending.get(key)
        if (value === undefined || r.get(key) !== value) return
        pending.delete(key)
        if (pending.size > 0) return
        this.#waiters.delete(check)
        resolve({ at: abs(), wire: wire() })
      }
      this.#waiters.add(check)
    })
  }
}
