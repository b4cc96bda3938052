import { SyncError, type P2PError } from '../errors.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { HybridClock } from './hlc.js'
import { HoldBack, dueAt } from './holdback.js'
import type { KeyState, SyncRules } from './key-state.js'
import type { SyncMeta } from './events.js'
import type { Change, Table } from './table.js'
import type { Write } from './write.js'
import type { WriterKeys } from './writer-keys.js'

/** What the intake needs from its sync table. */
export interface IntakeHost {
  readonly table: Table
  readonly hlc: HybridClock
  readonly clock: Clock
  readonly rules: SyncRules
  readonly writers: WriterKeys
  readonly signed: boolean
  readonly maxKeys: number
  readonly maxHeldWrites: number
  closed(): boolean
  report(err: P2PError): void
  /** A key changed: events and storage. */
  changed(change: Change, source: SyncMeta['source']): void
  /** Entries from `peer` changed the table (anti-entropy passes it on). */
  learnedFrom(peer: string): void
}

/**
 * Remote writes into the table: flooded writes and batches, and a peer's entries (anti-entropy),
 * checked (signed mode: their writers' signatures), held back while stamped too far ahead
 * (rule 7), then applied, with every refusal counted and reported.
 */
export class Intake {
  readonly #host: IntakeHost
  readonly #hold: HoldBack
  #holdTimer: TimerHandle | undefined
  readonly counts = { refused: 0, stale: 0, oversize: 0, forged: 0 }

  constructor(host: IntakeHost) {
    this.#host = host
    this.#hold = new HoldBack(host.maxHeldWrites)
  }

  /** Writes held back for a future stamp, now. */
  get held(): number {
    return this.#hold.size
  }

  stop(): void {
    this.#host.clock.clearTimeout(this.#holdTimer)
  }

  /** A flooded write by `write.writer`, with the flooded frame's key (signed mode). */
  write(key: string, write: Write, publicKey: Uint8Array | undefined, via: string): void {
    const ok = this.#host.writers.verified(key, write, publicKey)
    const then = (valid: boolean) => (this.#host.closed() ? undefined : valid ? this.#apply(key, write) : this.#forged(key, write, via))
    if (typeof ok === 'boolean') then(ok)
    else void ok.then(then)
  }

  /** A flooded batch (one `update()`): its writes stand or fall together, on one signature. */
  batch(writer: string, batch: Array<[string, Omit<Write, 'writer'>]>, sig: Uint8Array | undefined, publicKey: Uint8Array | undefined, via: string): void {
    const writes = batch.map(([key, w]): [string, Write] => [key, { ...w, writer }])
    void this.#host.writers.verifiedBatch(writer, writes, sig, publicKey).then((verified) => {
      if (this.#host.closed()) return
      if (verified === undefined) {
        this.counts.forged += writes.length
        this.#host.report(new SyncError('INVALID_WRITE', `dropped a batch of ${writes.length} writes claiming writer ${writer} (from ${via}): no valid signature of the writer`, { key: writes[0]![0] }))
        return
      }
      for (const [key, w] of verified) this.#apply(key, w)
    })
  }

  /** A peer's entries: in the signed mode only the writes their writers signed are kept. */
  merge(from: string, entries: Array<[string, KeyState]>, keys: Map<string, Uint8Array>): void | Promise<void> {
    if (!this.#host.signed) return void this.#mergeVerified(from, entries)
    const checked = this.#host.writers.verifiedEntries(entries, keys, (key, w) => this.#forged(key, w, from))
    return checked.then((verified) => void this.#mergeVerified(from, verified))
  }

  #forged(key: string, w: Write, via: string): void {
    this.counts.forged++
    this.#host.report(new SyncError('INVALID_WRITE', `dropped a write to ${JSON.stringify(key)} claiming writer ${w.writer} (from ${via}): no valid signature of the writer`, { key }))
  }

  #apply(key: string, write: Write): void {
    const { clock, rules, table, hlc } = this.#host
    const now = clock.now()
    const due = dueAt(write.stamp.ms, now, rules.maxDriftMs)
    if (due !== undefined) {
      if (!this.#hold.hold({ key, write, due })) {
        this.counts.oversize++
        this.#host.report(new SyncError('INVALID_WRITE', `dropped a write stamped ${write.stamp.ms - now} ms ahead: ${this.#host.maxHeldWrites} writes are held (maxHeldWrites)`, { key }))
      }
      return this.#armHold()
    }
    hlc.observe(write.stamp, now)
    const { outcome, change } = table.insert(key, write)
    if (outcome === 'stale') this.counts.stale++
    if (outcome === 'full') {
      this.counts.oversize++
      return this.#host.report(new SyncError('TOO_MANY_KEYS', `dropped a write to a new key: the table holds ${this.#host.maxKeys} keys (maxKeys)`, { key }))
    }
    if (change === undefined) return
    if (change.after.refused.includes(write)) {
      this.counts.refused++
      this.#host.report(new SyncError('LEASE_HELD', `refused a write by ${write.writer}: ${change.after.owner ?? 'another node'} holds ${JSON.stringify(key)}`, { key, ...(change.after.owner === undefined ? {} : { owner: change.after.owner }) }))
    }
    this.#host.changed(change, 'remote')
  }

  /** Merges entries; what they taught this node is passed on to its other neighbours (a heal spreads hop by hop). */
  #mergeVerified(from: string, entries: Array<[string, KeyState]>): void {
    if (this.#host.closed()) return
    const { clock, rules, table, hlc } = this.#host
    const now = clock.now()
    let learned = 0
    for (const [key, state] of entries) {
      const newest = state.log[state.log.length - 1] ?? state.base?.horizon
      if (newest !== undefined && dueAt(newest.stamp.ms, now, rules.maxDriftMs) !== undefined) {
        // Hold the future part back: apply each write when its time comes.
        for (const w of state.log) this.#apply(key, w)
        continue
      }
      if (newest !== undefined) hlc.observe(newest.stamp, now)
      const change = table.merge(key, state)
      if (change === 'full') {
        this.counts.oversize++
        this.#host.report(new SyncError('TOO_MANY_KEYS', `dropped a key from ${from}: the table holds ${this.#host.maxKeys} keys (maxKeys)`, { key }))
      } else if (change !== undefined) {
        learned++
        this.#host.changed(change, 'sync')
      }
    }
    if (learned > 0) this.#host.learnedFrom(from)
  }

  #armHold(): void {
    const { clock } = this.#host
    const next = this.#hold.next
    clock.clearTimeout(this.#holdTimer)
    this.#holdTimer = undefined
    if (next === undefined || this.#host.closed()) return
    this.#holdTimer = clock.setTimeout(() => {
      for (const { key, write } of this.#hold.takeDue(clock.now())) this.#apply(key, write)
      this.#armHold()
    }, Math.max(0, next - clock.now()))
  }
}
