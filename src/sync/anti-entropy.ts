import { SyncError, type P2PError } from '../errors.js'
import { binaryKey } from '../util/bytes.js'
import type { MeshPort } from '../mesh/protocol.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { KeyState } from './key-state.js'
import { byGroup, entryBatches } from './entry-batches.js'
import { SYNC_FLAGS as F, type SyncMessage } from './messages.js'
import { NewcomerGate } from './newcomer-gate.js'
import { RbsrSession, RbsrStore } from './rbsr.js'
import { LEARNING_WAIT_MS, MAX_ROUNDS, mayBringEntries, SESSION_TIMEOUT_MS, tailOf, type Session } from './session.js'
import { SPREAD_DELAY_MS, SpreadPlan } from './spread.js'
import type { Item, Table } from './table.js'

export interface AntiEntropyHost {
  readonly port: MeshPort
  readonly clock: Clock
  /** Gives the page a turn between batches (yieldToPage; the simulation's clock in tests). */
  readonly yield: () => Promise<void>
  readonly random: () => number
  readonly table: Table
  /** Largest entries message, msgpack bytes before compression. */
  readonly batchBytes: number
  /** Largest reconciliation message. */
  readonly frameBytes: number
  /** Entries a peer sent (with its writers' public keys, signed mode): merge them. */
  merge(from: string, entries: Array<[string, KeyState]>, keys: Map<string, Uint8Array>): void | Promise<void>
  /** The public keys to send along with these writers' writes (signed mode), else undefined. */
  publicKeys(writers: Iterable<string>): Array<[string, Uint8Array]> | undefined
  report(err: P2PError): void
}

type Message<K extends SyncMessage['kind']> = Extract<SyncMessage, { kind: K }>

/**
 * Anti-entropy: when a link forms (and every `antiEntropyMs` with a random peer) the two sides
 * find which keys differ by range-based set reconciliation over (newest write time, state
 * digest) items, then send each other only those keys' states, in batches that yield to the page
 * between them. A side with an empty table skips the reconciliation and asks for everything.
 */
export class AntiEntropy {
  readonly #host: AntiEntropyHost
  #store = new RbsrStore()
  readonly #keyOf = new Map<string, string>()
  readonly #sessions = new Map<string, Session>()
  /** Peers reconciled with since their link formed. */
  readonly #reconciled = new Set<string>()
  /** Per peer: its entries being merged (the signed mode checks signatures first). */
  readonly #merging = new Map<string, Promise<void>>()
  /** Which neighbours may lack what others taught this node (spread.ts), and the wait before telling them. */
  readonly #spread = new SpreadPlan()
  #spreadTimer: TimerHandle | undefined
  /** A newcomer takes the whole table from one neighbour; its other sessions wait. */
  readonly #gate: NewcomerGate<Session>
  #waiters: Array<() => void> = []
  /** Reconciliations opened while learning (`#learning`), to answer after. */
  #later: Array<() => void> = []
  #laterTimer: TimerHandle | undefined
  #stopped = false
  sessionsCompleted = 0
  entriesSent = 0
  entriesReceived = 0
  /** Reconciliation message bytes (range-based set reconciliation, before framing), sent and received. */
  reconcileBytes = 0

  constructor(host: AntiEntropyHost) {
    this.#host = host
    this.#gate = new NewcomerGate(host.clock)
  }

  /** The table's index follows every key change. */
  itemChanged(key: string, before: Item | undefined, after: Item): void {
    if (before !== undefined) {
      this.#store.remove(before)
      this.#keyOf.delete(binaryKey(before.id))
    }
    this.#store.insert(after)
    this.#keyOf.set(binaryKey(after.id), key)
  }

  /**
   * Replaces the index with `items` at once (a table restored in bulk): one store sorted once,
   * instead of one insert each. Sessions under way keep the snapshot they took.
   */
  rebuild(items: Iterable<readonly [key: string, item: Item]>): void {
    const list = [...items]
    this.#store = new RbsrStore(list.map(([, item]) => item))
    this.#keyOf.clear()
    for (const [key, item] of list) this.#keyOf.set(binaryKey(item.id), key)
  }

  /** A link formed: the side with the smaller id starts (a new link may well differ: no probe). */
  peer(id: string): void {
    if (this.#host.port.id < id) void this.start(id, { probe: false })
  }

  peerLeft(id: string): void {
    this.#reconciled.delete(id)
    this.#spread.left(id)
    this.#merging.delete(id)
    for (const [k, s] of this.#sessions) if (s.peer === id) this.#drop(k)
    this.#gate.left(id)
    this.#wake()
  }

  /** Whether a session with `peer` is under way. */
  busy(peer: string): boolean {
    return this.#sessionWith(peer) !== undefined
  }

  #sessionWith(peer: string): Session | undefined {
    for (const s of this.#sessions.values()) if (s.peer === peer) return s
    return undefined
  }

  /**
   * Starts reconciling with a neighbour: the newest items first, then the whole set (`whole`:
   * that one only). `probe` (default): open with one fingerprint of the range, for replicas
   * likely equal (a few bytes when they are; the whole set's session always does). `spread`: the
   * session passes on what another taught this node, which sits among the newest items: the
   * whole set follows only if they differed there. Resolves when the sessions end (true:
   * complete, false: dropped).
   */
  start(peer: string, { whole = false, probe = true, spread = false }: { whole?: boolean; probe?: boolean; spread?: boolean } = {}): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false)
    if (this.#gate.waits(peer)) {
      // After the whole table has arrived; by then a session with that peer may be under way.
      return new Promise((resolve) =>
        this.#gate.defer(() => {
          if (!this.#host.port.peers.includes(peer)) return resolve(false)
          void (this.#sessionWith(peer)?.done ?? this.start(peer, { whole, probe, spread })).then(resolve)
        }),
      )
    }
    const sid = Math.floor(this.#host.random() * 0x1_0000_0000) >>> 0
    const empty = this.#store.size === 0
    const rbsr = empty ? undefined : new RbsrSession(this.#store, 'initiator', { frameBytes: this.#host.frameBytes })
    const session = this.#open(peer, sid, 'initiator', rbsr)
    if (rbsr !== undefined) {
      this.#send(session, F.reconcile, sid, rbsr.initiate(whole ? undefined : tailOf(this.#store.size), whole || probe ? 'probe' : 'split'))
      if (!rbsr.whole) return session.done.then((complete) => (complete && !this.#stopped && (!spread || session.differed) ? this.start(peer, { whole: true }) : complete))
    } else {
      // An empty table asks for everything and has nothing to send.
      this.#gate.take(peer, session)
      this.#send(session, F.retrieve, sid, [])
      this.#finish(session)
    }
    return session.done
  }

  /** Resolves once every current neighbour has been reconciled with (at once without neighbours). */
  synced(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#host.port.peers.every((p) => this.#reconciled.has(p))) resolve()
        else this.#waiters.push(check) // woken at every session's end and every peer's leaving
      }
      check()
    })
  }

  receive(from: string, message: SyncMessage, waited = false): void {
    if (this.#stopped) return
    // A new reconciliation while the whole table is arriving from another peer: answered after it.
    // (A peer's 'retrieve' is answered at once with what is here: that waits for nothing, so no
    // two nodes can each wait for the other.)
    const opens = message.kind === 'reconcile' && !this.#sessions.has(`${from} ${message.session}`)
    if (opens && this.#gate.waits(from)) {
      this.#gate.defer(() => this.receive(from, message))
      return
    }
    // One while this node is still learning from another peer: answered once that is merged, so
    // that it finds the table as it will be instead of teaching what is already on its way; or
    // after LEARNING_WAIT_MS at most (a session that stalls must not hold up the others).
    if (opens && !waited && this.#learning(from)) {
      this.#later.push(() => this.#host.port.peers.includes(from) && this.receive(from, message, true))
      this.#laterTimer ??= this.#host.clock.setTimeout(() => this.#answerLater(true), LEARNING_WAIT_MS)
      return
    }
    switch (message.kind) {
      case 'reconcile':
        this.reconcileBytes += message.bytes.length
        return this.#reconcile(from, message)
      case 'retrieve':
        return this.#retrieve(from, message)
      case 'entries': {
        this.entriesReceived += message.entries.length
        const merged = this.#host.merge(from, message.entries, message.keys)
        if (merged !== undefined) {
          const chain = (this.#merging.get(from) ?? Promise.resolve()).then(() => merged)
          this.#merging.set(from, chain)
          void chain.then(() => this.#merging.get(from) === chain && this.#merging.delete(from))
        }
        return
      }
      case 'retrieved':
        return this.#retrieved(from, message)
      default:
        return
    }
  }

  #open(peer: string, sid: number, role: Session['role'], rbsr: RbsrSession | undefined): Session {
    // One session per peer and role: a new one replaces the last.
    for (const [k, s] of this.#sessions) if (s.peer === peer && s.role === role) this.#drop(k)
    const k = `${peer} ${sid}`
    let ended!: (complete: boolean) => void
    const done = new Promise<boolean>((resolve) => (ended = resolve))
    const session: Session = { peer, sid, role, rbsr, began: this.#host.clock.now(), sending: Promise.resolve(), sent: 0, doneSent: false, doneReceived: false, rounds: 0, timer: undefined, ended, complete: false, differed: true, done }
    session.timer = this.#host.clock.setTimeout(() => {
      if (this.#sessions.get(k) === session) this.#drop(k)
    }, SESSION_TIMEOUT_MS)
    this.#sessions.set(k, session)
    return session
  }

  #reconcile(from: string, { session: sid, bytes }: Message<'reconcile'>): void {
    let session = this.#sessions.get(`${from} ${sid}`)
    if (session === undefined) {
      session = this.#open(from, sid, 'responder', new RbsrSession(this.#store, 'responder', { frameBytes: this.#host.frameBytes }))
      // An empty table answering: the peer will send it everything (after its newest items, when
      // it began with those: then this is its session of the whole set).
      if (this.#store.size === 0 || this.#gate.awaitsWhole(from)) this.#gate.take(from, session)
    }
    if (session.rbsr === undefined) return
    if (++session.rounds > MAX_ROUNDS) {
      this.#drop(`${from} ${sid}`)
      return this.#host.report(new SyncError('INVALID_WRITE', `reconciliation with ${from} took over ${MAX_ROUNDS} messages: dropped`))
    }
    let reply: Uint8Array | undefined
    try {
      reply = session.rbsr.receive(bytes)
    } catch (err: unknown) {
      this.#drop(`${from} ${sid}`)
      return this.#host.report(new SyncError('INVALID_WRITE', `a reconciliation message from ${from} did not decode`, { cause: err }))
    }
    if (reply !== undefined) this.#send(session, F.reconcile, sid, reply)
    const { rbsr } = session
    if (!rbsr.done) return
    session.differed = rbsr.have.length > 0 || rbsr.need.length > 0 || rbsr.needUnlisted > 0
    if (!session.differed) {
      // Equal: neither side has anything to send, and both know it. No 'retrieved' either way.
      session.doneSent = session.doneReceived = true
      return this.#complete(session)
    }
    // Reconciled: both sides know what the other lacks. Send ours, then say we are done.
    this.#sendEntries(session, this.#keysOf(rbsr.have), new Set(rbsr.need.map(binaryKey)), rbsr.since)
    this.#finish(session)
  }

  #retrieve(from: string, { session: sid }: Message<'retrieve'>): void {
    let session = this.#sessions.get(`${from} ${sid}`)
    if (session === undefined) {
      // An empty-table initiator asks for everything at once.
      session = this.#open(from, sid, 'responder', undefined)
      this.#sendEntries(session, [...this.#host.table.rows()].map(([key]) => key))
      this.#finish(session)
    }
  }

  #retrieved(from: string, { session: sid }: Message<'retrieved'>): void {
    const session = this.#sessions.get(`${from} ${sid}`)
    if (session === undefined) return
    // Complete once what the peer sent before is merged.
    void (this.#merging.get(from) ?? Promise.resolve()).then(() => {
      session.doneReceived = true
      this.#complete(session)
      this.#answerLater()
    })
  }

  /** Whether a session with a peer other than `except` may still bring entries (`mayBringEntries`). */
  #learning(except: string): boolean {
    for (const s of this.#sessions.values()) if (s.peer !== except && mayBringEntries(s)) return true
    return false
  }

  /** Answers the reconciliations put off while learning, once nothing more is on its way (or `now`). */
  #answerLater(now = false): void {
    if (this.#later.length === 0 || (!now && this.#learning(''))) return
    this.#host.clock.clearTimeout(this.#laterTimer)
    this.#laterTimer = undefined
    const later = this.#later
    this.#later = []
    for (const go of later) go()
  }

  /** Entries from `peer` changed this node's table: to pass on (#spreadSoon). */
  learnedFrom(peer: string): void {
    this.#spread.learnt(peer, this.#host.clock.now())
  }

  /**
   * After SPREAD_DELAY_MS to twice that, reconciles with the neighbours that may lack what others
   * taught this node (spread.ts), unless a session may still bring entries (its end calls again).
   */
  #spreadSoon(): void {
    if (this.#stopped || this.#spreadTimer !== undefined || this.#spread.due(this.#host.port.peers).length === 0) return
    this.#spreadTimer = this.#host.clock.setTimeout(() => {
      this.#spreadTimer = undefined
      if (this.#stopped || this.#learning('')) return
      for (const p of this.#spread.due(this.#host.port.peers)) if (!this.busy(p)) void this.start(p, { spread: true })
    }, SPREAD_DELAY_MS * (1 + this.#host.random()))
  }

  #keysOf(ids: Iterable<Uint8Array>): string[] {
    const keys: string[] = []
    for (const id of ids) {
      const key = this.#keyOf.get(binaryKey(id))
      if (key !== undefined) keys.push(key)
    }
    return keys
  }

  /** Queues our 'retrieved' after everything queued before it. */
  #finish(session: Session): void {
    if (session.doneSent) return
    session.doneSent = true
    session.sending = session.sending.then(() => this.#host.port.direct(session.peer, F.retrieved, session.sid, session.sent)).catch(() => {})
    void session.sending.then(() => this.#complete(session))
  }

  #drop(k: string): void {
    const session = this.#sessions.get(k)
    if (session === undefined) return
    this.#host.clock.clearTimeout(session.timer)
    this.#sessions.delete(k)
    session.ended(false)
    this.#answerLater()
    this.#spreadSoon()
    if (!this.#gate.carries(session)) return
    // Its newest items are here; its session of the whole set follows at once.
    if (session.complete && session.rbsr?.whole === false && !this.#stopped) this.#gate.expectWhole(session.peer)
    else this.#gate.release()
  }

  /** Ends every session (the socket is closing). */
  stop(): void {
    this.#stopped = true
    this.#later = []
    this.#host.clock.clearTimeout(this.#laterTimer)
    this.#host.clock.clearTimeout(this.#spreadTimer)
    for (const k of [...this.#sessions.keys()]) this.#drop(k)
    this.#gate.release()
  }

  #complete(session: Session): void {
    const k = `${session.peer} ${session.sid}`
    if (!session.doneSent || !session.doneReceived || this.#sessions.get(k) !== session) return
    session.complete = true
    session.ended(true)
    // What sessions taught goes on to the neighbours that may lack it (#drop: #spreadSoon).
    this.#spread.synced(session.peer, session.began)
    this.#drop(k)
    this.sessionsCompleted++
    if (session.rbsr?.whole !== false) {
      this.#reconciled.add(session.peer)
      this.#wake()
    }
  }

  #wake(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w()
  }

  #send(session: Session, sub: number, ...items: unknown[]): void {
    if (sub === F.reconcile) this.reconcileBytes += (items[1] as Uint8Array).length
    session.sending = session.sending.then(() => this.#host.port.direct(session.peer, sub, ...items)).catch(() => {})
  }

  /** The keys' states in batches of at most batchBytes, yielding to the page between batches. */
  #sendEntries(session: Session, keys: string[], peerStates?: ReadonlySet<string>, since?: number): void {
    if (keys.length === 0) return
    session.sending = session.sending
      .then(async () => {
        let first = true
        for (const { columns, count, writers, groups } of entryBatches(this.#host.table, byGroup(this.#host.table, keys), this.#host.batchBytes, peerStates, since)) {
          if (!first) await this.#host.yield()
          first = false
          session.sent += count
          this.entriesSent += count
          const publicKeys = this.#host.publicKeys(writers)
          const items: unknown[] = publicKeys === undefined ? [columns] : [columns, publicKeys]
          if (groups.size > 0) {
            items[1] ??= []
            try {
              items.push(groups.items())
            } catch (err: unknown) {
              // A group this node cannot prove: that batch is skipped, said, and the rest go on.
              this.#host.report(new SyncError('INVALID_WRITE', `a state-transfer batch for ${session.peer} was not sent`, { cause: err }))
              continue
            }
          }
          await this.#host.port.direct(session.peer, F.store, ...items)
        }
      })
      .catch(() => {})
  }
}
