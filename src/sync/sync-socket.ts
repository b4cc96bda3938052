import { MeshError, P2PError, SyncError } from '../errors.js'
import { MeshSocket } from '../mesh/mesh-socket.js'
import type { MeshEvents } from '../mesh/types.js'
import type { MeshPort, MeshProtocol, ProtocolMessage } from '../mesh/protocol.js'
import type { StorageAdapter } from '../storage/adapter.js'
import { Emitter } from '../util/emitter.js'
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js'
import { yieldToPage } from '../util/yield.js'
import { AntiEntropy } from './anti-entropy.js'
import { Intake } from './intake.js'
import { Outbox } from './outbox.js'
import { HybridClock, type Hlc } from './hlc.js'
import { leaseEnd, type Resolved, type SyncRules } from './key-state.js'
import { checkLocalWrite, eventsOf, metaOf, type SyncEvents, type SyncMeta, type SyncServices, type SyncStats } from './events.js'
import { syncClaims, type SyncMessage } from './messages.js'
import type { Bounds } from './write-codec.js'
import { resolveSyncOptions, SYNC_DEFAULTS, type ResolvedSyncOptions, type SyncOptions } from './options.js'
import { Persister } from './persister.js'
import { Table, type Change } from './table.js'
import { isMap, type Write, type WriteKind } from './write.js'
import { WriterKeys } from './writer-keys.js'

/**
 * A replicated dictionary over the mesh (p2p.today's SyncSocket): every node keeps the whole
 * table, reads are local, writes are flooded and reconciled on every new link. With leasing on
 * (the default) the last writer of a key owns it for `leaseMs`. See docs/API.md.
 */
export class SyncSocket extends MeshSocket {
  readonly #opts: ResolvedSyncOptions
  readonly #rules: SyncRules
  readonly #bounds: Bounds
  readonly #events = new Emitter<SyncEvents>((err, event) => console.error(`p2p-today: a sync '${String(event)}' listener threw`, err))
  readonly #table: Table
  readonly #intake: Intake
  readonly #ae: AntiEntropy
  readonly #port: MeshPort
  readonly #clock: Clock
  readonly #random: () => number
  readonly #restored: Promise<void>
  readonly #hlc: HybridClock
  #persister: Persister | undefined
  #aeTimer: TimerHandle | undefined
  #closed = false
  readonly #writers: WriterKeys
  readonly #outbox: Outbox
  /** Where each key's last change came from (meta(key).source). */
  readonly #sources = new Map<string, SyncMeta['source']>()

  constructor(options: SyncOptions = {}, services: SyncServices = {}) {
    const opts = resolveSyncOptions(options)
    super(options, services, opts.leasing ? 'sync1' : 'sync0')
    this.#opts = opts
    this.#rules = { leasing: opts.leasing, leaseMs: opts.leaseMs, maxDriftMs: opts.maxDriftMs, maxHistory: opts.maxHistory }
    this.#bounds = { maxKeyBytes: opts.maxKeyBytes, maxValueBytes: opts.maxValueBytes }
    this.#hlc = new HybridClock({ maxDriftMs: opts.maxDriftMs })
    this.#clock = services.clock ?? systemClock
    this.#random = services.random ?? Math.random
    this.#table = new Table(this.#rules, opts.maxKeys, (key, before, after) => this.#ae.itemChanged(key, before, after))
    const protocol: MeshProtocol<SyncMessage> = {
      name: 'sync',
      claims: syncClaims(this.#bounds),
      onMessage: (m) => this.#onMessage(m),
      onPeer: (id) => this.#ae.peer(id),
      onPeerLeft: (id) => this.#ae.peerLeft(id),
    }
    this.#port = this.register(protocol)
    this.#writers = new WriterKeys(this.#port, (writer, pk) => this.#persister?.savePublicKey(writer, pk))
    const port = this.#port
    this.#outbox = new Outbox({
      port,
      table: this.#table,
      writers: this.#writers,
      check: (key, kind, value, stamp) => this.#check(key, kind, value, stamp),
      changed: (change) => this.#changed(change, 'local', true),
    })
    this.#intake = new Intake({
      table: this.#table,
      hlc: this.#hlc,
      clock: this.#clock,
      rules: this.#rules,
      writers: this.#writers,
      get signed() {
        return port.signed // known once the mesh has started
      },
      maxKeys: opts.maxKeys,
      maxHeldWrites: opts.maxHeldWrites,
      closed: () => this.#closed,
      report: (err) => this.#report(err),
      changed: (change, source) => this.#changed(change, source, false),
      learnedFrom: (peer) => this.#ae.learnedFrom(peer),
    })
    this.#ae = new AntiEntropy({
      port: this.#port,
      clock: this.#clock,
      // An injected clock (a simulation) keeps its virtual time; else the page's own turn, unthrottled in hidden tabs.
      yield: services.clock === undefined ? yieldToPage : () => new Promise<void>((resolve) => this.#clock.setTimeout(resolve, 0)),
      random: this.#random,
      table: this.#table,
      batchBytes: opts.batchBytes,
      frameBytes: 16_384,
      merge: (from, entries, keys) => this.#intake.merge(from, entries, keys),
      publicKeys: (writers) => this.#writers.publicKeys(writers),
      report: (err) => this.#report(err),
    })
    const storage = services.storage
    this.#restored = storage === undefined ? Promise.resolve() : this.#restore(storage(`${opts.leasing ? 'sync1' : 'sync0'}:${options.subnet ?? 'default'}`))
    this.#restored.catch((err: unknown) => this.#report(err instanceof P2PError ? err : new SyncError('SYNC_CLOSED', 'restoring the table failed', { cause: err })))
    this.#scheduleAntiEntropy()
  }

  // ---- reading --------------------------------------------------------------------------------

  /** The value of `key`, or `fallback` (default undefined) when absent. Local and synchronous. */
  get(key: string, fallback?: unknown): unknown {
    const v = this.#table.row(key)?.resolved.value
    return v === undefined ? fallback : v
  }

  has(key: string): boolean {
    return this.#table.row(key)?.resolved.value !== undefined
  }

  /** Keys with a value. */
  get size(): number {
    return this.#table.size
  }

  *keys(): IterableIterator<string> {
    for (const [key, row] of this.#table.rows()) if (row.resolved.value !== undefined) yield key
  }

  *values(): IterableIterator<unknown> {
    for (const [, row] of this.#table.rows()) if (row.resolved.value !== undefined) yield row.resolved.value
  }

  *entries(): IterableIterator<[string, unknown]> {
    for (const [key, row] of this.#table.rows()) if (row.resolved.value !== undefined) yield [key, row.resolved.value]
  }

  /** The key's last accepted write (deleted keys too), or undefined for a key never written. */
  meta(key: string): SyncMeta | undefined {
    const row = this.#table.row(key)
    return row === undefined ? undefined : this.#meta(row.resolved, this.#sources.get(key) ?? 'sync')
  }

  /** Who holds `key` and until when (at the earliest), while the lease lasts; undefined when free or leasing is off. */
  lease(key: string): { owner: string; expiresAt: number } | undefined {
    const r = this.#table.row(key)?.resolved
    if (r === undefined || r.owner === undefined) return undefined
    const end = leaseEnd(r, this.#rules)!
    return end > this.#clock.now() ? { owner: r.owner, expiresAt: end } : undefined
  }

  get syncStats(): SyncStats {
    return {
      keys: this.#table.size,
      ...this.#intake.counts,
      held: this.#intake.held,
      reconciliations: this.#ae.sessionsCompleted,
      entriesSent: this.#ae.entriesSent,
      entriesReceived: this.#ae.entriesReceived,
      reconcileBytes: this.#ae.reconcileBytes,
      signatureChecks: this.#writers.checks,
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Resolves once the stored table is loaded (at once without storage), without waiting for the
   * network: the table is as it was before the reload; ready() also waits for a first link.
   */
  async restored(): Promise<void> {
    await this.#restored
  }

  /** Resolves once the table is restored from storage and the mesh is linked to a peer (or alone). */
  override async ready(): Promise<void> {
    await this.#restored
    await super.ready()
  }

  /** Resolves when reconciliation with every current peer is complete. */
  async synced(): Promise<void> {
    await this.ready()
    await this.#ae.synced()
  }

  /**
   * Reconciles with every neighbour now (besides the reconciliation on every new link and every
   * `antiEntropyMs`): e.g. when a hidden tab becomes visible again. Resolves when those sessions
   * end; a session a neighbour leaves or stalls (120 s) simply ends.
   */
  async reconcile(): Promise<void> {
    await this.ready()
    if (this.#closed) throw new SyncError('SYNC_CLOSED', 'the sync table is closed')
    await Promise.all(this.#port.peers.map((peer) => this.#ae.start(peer)))
  }

  /**
   * Writes every change made or received so far to storage now, without waiting for
   * `persistDelayMs`; resolves once written (at once without storage, or after a storage failure,
   * which 'error' reported). The package entry's socket calls it when the page is hidden or left.
   */
  async persisted(): Promise<void> {
    await this.#restored.catch(() => {})
    await this.#persister?.flushed()
  }

  override on<K extends keyof SyncEvents>(event: K, fn: (...args: SyncEvents[K]) => void): () => void {
    if (event === 'update' || event === 'delete' || event === 'conflict') return this.#events.on(event, fn)
    return super.on(event as keyof MeshEvents, fn as never)
  }

  override async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#intake.stop()
      this.#clock.clearTimeout(this.#aeTimer)
      this.#ae.stop()
    }
    await this.#restored.catch(() => {})
    await this.#persister?.close()
    await super.close()
    this.#events.removeAll()
  }

  // ---- writing --------------------------------------------------------------------------------

  /**
   * Sets `key` to `value` (any wire value but null/undefined) on every node. Rejects with
   * LEASE_HELD while another node holds the key, KEY_TOO_LARGE, VALUE_TOO_LARGE, TOO_MANY_KEYS,
   * INVALID_PAYLOAD (not a wire value); nothing is sent then. Resolves when every neighbour link
   * accepted the write.
   */
  async set(key: string, value: unknown): Promise<void> {
    if (value === undefined || value === null) throw new MeshError('INVALID_ARGUMENT', 'set(key, value): value is null or undefined (use delete(key))')
    return this.#write(key, 'set', value)
  }

  /** Deletes `key` everywhere (a tombstone; the key's lease is given up). Same errors as set. */
  async delete(key: string): Promise<void> {
    return this.#write(key, 'delete', undefined)
  }

  /**
   * Sets several keys; every write is checked before any is made (all or nothing locally). The
   * writes are flooded together (outbox.ts).
   */
  async update(values: Record<string, unknown>): Promise<void> {
    const entries = Object.entries(values)
    for (const [key, value] of entries) {
      if (value === undefined || value === null) throw new MeshError('INVALID_ARGUMENT', `update: the value of ${JSON.stringify(key)} is null or undefined`)
      this.#check(key, 'set', value)
    }
    await Promise.all(entries.map(([key, value]) => this.#write(key, 'set', value)))
  }

  /**
   * Merges `fields` into the map value of `key` (an absent key becomes a map). Concurrent deltas
   * to different fields all land; to one field, the later write wins. Rejects with NOT_A_MAP if
   * the value is not a map, and as set otherwise.
   */
  async applyDelta(key: string, fields: Record<string, unknown>): Promise<void> {
    if (!isMap(fields)) throw new MeshError('INVALID_ARGUMENT', 'applyDelta(key, fields): fields is a plain object')
    return this.#write(key, 'delta', fields)
  }

  /** Gives up this node's lease on `key` at once (others may write it). Resolves at once when this node does not hold it. */
  async release(key: string): Promise<void> {
    const r = this.#table.row(key)?.resolved
    if (!this.#rules.leasing || r?.owner !== this.id) return
    return this.#write(key, 'release', undefined)
  }

  /** Throws the named error a local write gets (nothing is sent then). */
  #check(key: string, kind: WriteKind, value: unknown, stamp: Hlc = { ms: this.#clock.now(), counter: 0 }): void {
    if (this.#closed) throw new SyncError('SYNC_CLOSED', 'the sync table is closed', { key })
    const { maxKeys } = this.#opts
    const current = typeof key === 'string' ? this.#table.row(key)?.resolved : undefined
    checkLocalWrite({ key, kind, value, stamp, writer: this.id, current, full: this.#table.full(key), bounds: this.#bounds, maxKeys, rules: this.#rules })
  }

  /** Stamps and checks a local write now; it is signed and flooded with the others of this task (outbox.ts). */
  async #write(key: string, kind: WriteKind, value: unknown): Promise<void> {
    if (this.#closed) throw new SyncError('SYNC_CLOSED', 'the sync table is closed', { key })
    await this.#restored
    const stamp = this.#hlc.tick(this.#clock.now())
    this.#check(key, kind, value, stamp)
    const write: Write = value === undefined ? { kind, stamp, writer: this.id } : { kind, stamp, writer: this.id, value }
    return this.#outbox.send(key, write)
  }

  // ---- receiving ------------------------------------------------------------------------------

  #onMessage(m: ProtocolMessage<SyncMessage>): void {
    if (this.#closed) return
    const v = m.value
    if (v.kind === 'batch') return this.#intake.batch(m.origin, v.writes, v.sig, m.publicKey, m.via)
    if (v.kind === 'write') return this.#intake.write(v.key, { ...v.write, writer: m.origin }, m.publicKey, m.via)
    this.#ae.receive(m.via, v)
  }

  #scheduleAntiEntropy(): void {
    const every = this.#opts.antiEntropyMs
    this.#aeTimer = this.#clock.setTimeout(() => {
      if (this.#closed) return
      const idle = this.#port.peers.filter((p) => !this.#ae.busy(p))
      const pick = idle[Math.floor(this.#random() * idle.length)]
      if (pick !== undefined) this.#ae.start(pick)
      this.#scheduleAntiEntropy()
    }, every / 2 + this.#random() * every)
  }

  // ---- changes: events and storage -----------------------------------------------------------

  #changed(change: Change, source: SyncMeta['source'], own: boolean): void {
    this.#sources.set(change.key, source)
    const row = this.#table.row(change.key)!
    this.#persister?.save(change.key, row.state, row.item.id, this.#hlc.last, own && this.#rules.leasing)
    let me: string | undefined
    try {
      me = this.id
    } catch {
      me = undefined // restoring before start-up made the identity
    }
    for (const e of eventsOf(change, me, (r) => this.#meta(r, source))) {
      if (e.event === 'update') this.#events.emit('update', e.key, e.value, e.meta)
      else if (e.event === 'delete') this.#events.emit('delete', e.key, e.meta)
      else this.#events.emit('conflict', e.key, e.mine, e.winner)
    }
  }

  #meta(r: Resolved, source: SyncMeta['source']): SyncMeta {
    return metaOf(r, this.#rules, this.#clock.now(), source)
  }

  async #restore(storage: StorageAdapter): Promise<void> {
    const persister = new Persister(storage, (err) => this.#report(err), this.#clock, this.#opts.persistDelayMs)
    let restored
    try {
      restored = await persister.restore(this.#bounds)
    } catch (err: unknown) {
      this.#report(err instanceof P2PError ? err : new SyncError('SYNC_CLOSED', 'the stored table could not be read', { cause: err }))
      return
    }
    this.#persister = persister
    if (restored.clock !== undefined) this.#hlc.observe(restored.clock, restored.clock.ms)
    this.#writers.restore(restored.keys)
    // In bulk, with the stored item ids; the anti-entropy index sorted once.
    const changes = this.#table.restoreAll(restored.rows)
    if (changes.length > 0) this.#ae.rebuild(Array.from(this.#table.rows(), ([key, row]) => [key, row.item] as const))
    persister.follow(this.#table)
    for (const { key, before, after } of changes) {
      this.#sources.set(key, 'restore')
      const row = this.#table.row(key)!
      // A key that also came from the network meanwhile (not stored then): stored now, merged.
      if (before !== undefined) persister.save(key, row.state, row.item.id, this.#hlc.last, false)
      if (after.value !== undefined) this.#events.emit('update', key, after.value, this.#meta(after, 'restore'))
    }
  }

  #report(err: P2PError): void {
    this.#port.report(err)
  }
}

export { SYNC_DEFAULTS }
export type { SyncOptions, SyncMeta, SyncEvents, SyncServices, SyncStats }
