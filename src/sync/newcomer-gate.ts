import type { Clock, TimerHandle } from '../util/clock.js'

/** How long a newcomer waits for the session of the whole set that follows a tail session, before it lets its other sessions go on. */
export const WHOLE_WAIT_MS = 10_000

/**
 * A newcomer takes the whole table from one neighbour (docs/protocol.md, *Anti-entropy*, step
 * 3): the peer from which this node, its table empty when the session began, receives it, and
 * the session. Until it ends, every other session waits (`defer`): one neighbour sends the table
 * once, instead of every neighbour of a newcomer sending it all at the same time. When that peer
 * began with its newest items (a tail session), the wait lasts until its session of the whole set
 * (`session` undefined in between, for at most WHOLE_WAIT_MS).
 */
export class NewcomerGate<S> {
  readonly #clock: Clock
  #bulk: { peer: string; session: S | undefined; timer?: TimerHandle } | undefined
  #deferred: Array<() => void> = []

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** Whether a session with `peer` must wait for the whole table to arrive from another. */
  waits(peer: string): boolean {
    return this.#bulk !== undefined && this.#bulk.peer !== peer
  }

  /** Runs `go` once the whole table is here. */
  defer(go: () => void): void {
    this.#deferred.push(go)
  }

  /** The whole table comes from `peer`, in `session`. */
  take(peer: string, session: S): void {
    this.#clock.clearTimeout(this.#bulk?.timer)
    this.#bulk = { peer, session }
  }

  /** Whether `peer` sent its newest items and its session of the whole set is awaited. */
  awaitsWhole(peer: string): boolean {
    return this.#bulk?.peer === peer && this.#bulk.session === undefined
  }

  /** Whether `session` is the one bringing the table. */
  carries(session: S): boolean {
    return this.#bulk !== undefined && this.#bulk.session === session
  }

  /** `peer`'s tail session ended: its session of the whole set follows at once (or the wait ends after WHOLE_WAIT_MS). */
  expectWhole(peer: string): void {
    this.#bulk = { peer, session: undefined, timer: this.#clock.setTimeout(() => this.release(), WHOLE_WAIT_MS) }
  }

  /** The peer left: nothing more comes from it. */
  left(peer: string): void {
    if (this.#bulk?.peer === peer) this.release()
  }

  /** The whole table is here (or its sender left): the sessions that waited go on. */
  release(): void {
    this.#clock.clearTimeout(this.#bulk?.timer)
    this.#bulk = undefined
    const deferred = this.#deferred
    this.#deferred = []
    for (const go of deferred) go()
  }
}
