import { TransportError } from '../errors.js'
import { resolveLinkLimits } from '../transport/memory.js'
import type { LinkLimits } from '../transport/memory.js'
import type { Clock } from '../util/clock.js'
import { EventQueue, VirtualClock, settle } from './event-queue.js'
import { Prng } from './prng.js'
import type { SimEngine, SimNode, SimStats, SimTraceEvent } from './sim-types.js'
import { SimTransport } from './sim-transport.js'
import type { SimWire } from './sim-wire.js'

export type { SimStats, SimTraceEvent } from './sim-types.js'
export { SimTransport } from './sim-transport.js'

/** `highWaterMark` / `maxMessageBytes` bound every sim link as they do memory links (16 MiB / 64 MiB). */
export interface SimNetworkOptions extends LinkLimits {
  /** Everything random (latency, drops, ordering of simultaneous events, `random`) derives from it. */
  seed: number
  /** One-way latency of each message and dial, uniform in [min, max] virtual ms. Default 5..50. */
  latency?: { min: number; max: number }
  /**
   * Probability of losing each data message. Default 0. Links promise reliable delivery, so this
   * is fault injection (does the protocol survive a broken promise?), not a model of the network.
   */
  dropRate?: number
  /** How long after a kill, or a partition that has not healed, the link fails with LINK_FAILED. Default 5000. */
  failureDetectionMs?: number
  /** A dial to a killed or partitioned node rejects with DIAL_TIMEOUT after this long. Default 10000. */
  dialTimeoutMs?: number
  /** Virtual time at the start. Default 0. */
  startTime?: number
  /** Called with every delivery, drop, close, failure and dial; collect it to diff two runs. */
  trace?: (event: SimTraceEvent) => void
  /**
   * Nodes made by simMeshNode get `Network.discover` (`discover()` below: a signaling server that
   * sees every live node, across cuts). Default false: they know only their bootstrap ids.
   */
  discovery?: boolean
}

export const SIM_DEFAULT_MAX_STEPS = 1_000_000

/**
 * A seeded, deterministic simulated network for protocol tests and large simulations
 * (yjs tests/testHelper.js style). `transport(id)` gives each node a Transport whose links are
 * simulated; a discrete-event scheduler in virtual time delivers messages with random latency,
 * in random order across links but FIFO within each link. Nothing moves until the test drives
 * it (`step`, `runUntil*`, `runFor`, or `autoRun` for code written against real time).
 *
 * The run methods let microtasks settle after every event, so async protocol code reaches its
 * next await before the next event; with the same seed and the same code, every run processes the
 * same events in the same order. A listener or timer that throws makes the run method reject.
 */
export class SimNetwork {
  readonly seed: number
  /** A generator for the test's own choices (graphs, payloads), derived from the seed. */
  readonly random: Prng
  /** A clock not owned by any node (its timers survive kills). Node clocks: `transport(id).clock`. */
  readonly clock: Clock
  readonly #queue = new EventQueue(() => {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  })
  readonly #prng: Prng
  readonly #discoveryPrng: Prng
  /** Whether nodes get a discovery (SimNetworkOptions.discovery). */
  readonly discovery: boolean
  readonly #latency: { min: number; max: number }
  readonly #dropRate: number
  readonly #trace: ((event: SimTraceEvent) => void) | undefined
  readonly #nodes = new Map<string, SimNode>()
  readonly #wires = new Set<SimWire>()
  readonly #stalled = new Set<SimWire>()
  readonly #blocked = new Set<string>()
  readonly #errors: unknown[] = []
  readonly #stats: SimStats = { steps: 0, sent: 0, delivered: 0, dropped: 0, bytesSent: 0, bytesDelivered: 0 }
  readonly #engine: SimEngine
  #now: number
  /** Tie of the event being run (or last run) at time `#now`: a sub-time position within that instant. */
  #subNow = 0
  #healEpoch = 0
  #linkCount = 0
  #wake: (() => void) | undefined
  #driver: string | undefined

  constructor(options: SimNetworkOptions) {
    this.seed = options.seed
    const root = new Prng(options.seed)
    this.#prng = root.fork()
    this.random = root.fork()
    this.#discoveryPrng = root.fork()
    this.discovery = options.discovery ?? false
    this.#latency = options.latency ?? { min: 5, max: 50 }
    if (!(this.#latency.min >= 0 && this.#latency.max >= this.#latency.min)) throw new RangeError('latency needs 0 <= min <= max')
    this.#dropRate = options.dropRate ?? 0
    if (!(this.#dropRate >= 0 && this.#dropRate <= 1)) throw new RangeError('dropRate must be in [0, 1]')
    this.#trace = options.trace
    this.#now = options.startTime ?? 0
    this.clock = new VirtualClock(this.#queue, () => this.#now, (time) => this.#tie(time))
    this.#engine = this.#makeEngine(
      resolveLinkLimits(options),
      options.dialTimeoutMs ?? 10_000,
      options.failureDetectionMs ?? 5_000,
    )
  }

  /** Virtual time in ms. */
  now(): number {
    return this.#now
  }

  get stats(): Readonly<SimStats> {
    return { ...this.#stats }
  }

  /** Events waiting in the scheduler (deliveries, timers, dials, failure detections). */
  get pending(): number {
    return this.#queue.size
  }

  /**
   * Registers a node and returns its transport. Throws ID_TAKEN if a live node has the id; the
   * id of a killed node can be reused (a restart: a new node, none of the old one's links).
   */
  transport(id: string): SimTransport {
    const existing = this.#nodes.get(id)
    if (existing?.alive === true) throw new TransportError('ID_TAKEN', `node '${id}' already exists`)
    const clock = new VirtualClock(this.#queue, () => this.#now, (time) => this.#tie(time))
    const ref: { node?: SimNode } = {}
    const transport = new SimTransport(this.#engine, id, clock, () => ref.node as SimNode)
    ref.node = { id, alive: true, transport, clock, wires: new Set() }
    this.#nodes.set(id, ref.node)
    return transport
  }

  isAlive(id: string): boolean {
    return this.#nodes.get(id)?.alive === true
  }

  /** What a signaling server would answer `from`: up to `n` live nodes other than it, in a random order (8: the server's `discoveryLimit`). */
  discover(from: string, n = 8): string[] {
    const live = [...this.#nodes.values()].filter((node) => node.alive && node.id !== from).map((node) => node.id)
    return this.#discoveryPrng.shuffle(live).slice(0, n)
  }

  /**
   * Abrupt death of a node: its timers are cancelled, nothing more is delivered from or to it,
   * and each of its links fails on the far side (LINK_FAILED) after `failureDetectionMs`. The dead
   * node's own objects see nothing (no events; sends are accepted and lost).
   */
  kill(id: string): void {
    const node = this.#nodes.get(id)
    if (node === undefined || !node.alive) return
    node.alive = false
    node.clock.stop()
    for (const wire of [...node.wires]) wire.kill(node)
  }

  /**
   * Cuts every path between a node of `groupA` and a node of `groupB` (ids; unknown ones are
   * fine). Messages across the cut are held, then delivered if `heal()` comes within
   * `failureDetectionMs`; otherwise the link fails on both sides with LINK_FAILED and they are lost.
   * Dials across the cut time out. Cuts add up until `heal()`.
   */
  partition(groupA: Iterable<string>, groupB: Iterable<string>): void {
    const b = [...groupB]
    for (const x of groupA) {
      for (const y of b) {
        if (x === y) continue
        this.#blocked.add(pairKey(x, y))
        this.#blocked.add(pairKey(y, x))
      }
    }
    const epoch = this.#healEpoch
    for (const wire of this.#wires) {
      const [x, y] = wire.nodes
      if (!this.#isBlocked(x.id, y.id)) continue
      this.#engine.schedule(this.#now + this.#engine.failureDetectionMs, () => {
        if (epoch !== this.#healEpoch || !this.#isBlocked(x.id, y.id)) return
        wire.fail(new TransportError('LINK_FAILED', `link between '${x.id}' and '${y.id}' timed out (partition)`))
      })
    }
  }

  /** Removes every cut; held messages resume, one latency from now. */
  heal(): void {
    this.#blocked.clear()
    this.#healEpoch++
    const stalled = [...this.#stalled]
    this.#stalled.clear()
    for (const wire of stalled) wire.resume()
  }

  /** Lets microtasks settle, processes the next event, lets microtasks settle. False if there was none. */
  step(): Promise<boolean> {
    return this.#exclusive('step', async () => {
      await this.#settle()
      const ran = this.#runOne()
      await this.#settle()
      return ran
    })
  }

  /** Runs until no event is pending. False if `maxSteps` events ran first (e.g. a periodic timer). */
  runUntilIdle(maxSteps = SIM_DEFAULT_MAX_STEPS): Promise<boolean> {
    return this.runUntil(() => this.#queue.size === 0, maxSteps)
  }

  /** Runs until `predicate()` holds (checked before and after every event). False if the network went idle or `maxSteps` ran first. */
  runUntil(predicate: () => boolean, maxSteps = SIM_DEFAULT_MAX_STEPS): Promise<boolean> {
    return this.#exclusive('runUntil', async () => {
      await this.#settle()
      for (let steps = 0; ; steps++) {
        if (predicate()) return true
        if (steps >= maxSteps || !this.#runOne()) return false
        await this.#settle()
      }
    })
  }

  /** Runs every event due within the next `ms` virtual ms, then sets the clock to that time. False if `maxSteps` ran first. */
  runFor(ms: number, maxSteps = SIM_DEFAULT_MAX_STEPS): Promise<boolean> {
    return this.#exclusive('runFor', async () => {
      const target = this.#now + ms
      await this.#settle()
      for (let steps = 0; ; steps++) {
        const due = this.#queue.peekTime()
        if (due === undefined || due > target) break
        if (steps >= maxSteps) return false
        this.#runOne()
        await this.#settle()
      }
      if (target > this.#now) [this.#now, this.#subNow] = [target, 0]
      return true
    })
  }

  /**
   * Drives the scheduler from the real event loop, one event per macrotask, until the returned
   * function is called: for code that waits on promises rather than on `runUntil` (e.g. the
   * transport contract suite). Errors from listeners and timers are rethrown as unhandled
   * rejections.
   */
  autoRun(): () => void {
    if (this.#driver !== undefined) throw new Error(`autoRun(): ${this.#driver}() is already driving this network`)
    this.#driver = 'autoRun'
    let running = true
    const loop = async (): Promise<void> => {
      for (;;) {
        await settle()
        if (!running) return
        this.#throwErrors()
        if (!this.#runOne()) await new Promise<void>((resolve) => (this.#wake = resolve))
      }
    }
    void loop()
    return () => {
      if (!running) return
      running = false
      this.#driver = undefined // released now: the loop only wakes to see it is stopped
      this.#wake?.()
      this.#wake = undefined
    }
  }

  /** One driver at a time: two run loops interleaving would make the event order depend on both. */
  async #exclusive<T>(name: string, run: () => Promise<T>): Promise<T> {
    if (this.#driver !== undefined) throw new Error(`${name}(): ${this.#driver}() is already driving this network`)
    this.#driver = name
    try {
      return await run()
    } finally {
      this.#driver = undefined
    }
  }

  async #settle(): Promise<void> {
    await settle()
    this.#throwErrors()
  }

  #throwErrors(): void {
    if (this.#errors.length === 0) return
    const errors = this.#errors.splice(0)
    throw errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} errors in simulated listeners/timers`)
  }

  #runOne(): boolean {
    const event = this.#queue.pop()
    if (event === undefined) return false
    this.#now = Math.max(this.#now, event.time)
    this.#subNow = event.tie
    this.#stats.steps++
    try {
      event.run()
    } catch (err: unknown) {
      this.#errors.push(err)
    }
    return true
  }

  /**
   * Orders events due at the same instant. Each gets an exponential "sub-time" delay after the
   * instant's current position: memoryless, so whichever events are pending at that instant are
   * equally likely to run next (a fresh uniform draw would favour the newest one).
   */
  #tie(time: number): number {
    return (time <= this.#now ? this.#subNow : 0) - Math.log(1 - this.#prng.next())
  }

  #isBlocked(a: string, b: string): boolean {
    return this.#blocked.size > 0 && this.#blocked.has(pairKey(a, b))
  }

  #makeEngine(limits: Required<LinkLimits>, dialTimeoutMs: number, failureDetectionMs: number): SimEngine {
    const { min, max } = this.#latency
    return {
      limits,
      stats: this.#stats,
      dialTimeoutMs,
      failureDetectionMs,
      now: () => this.#now,
      schedule: (time, run) => {
        const at = Math.max(time, this.#now)
        return this.#queue.schedule(at, run, this.#tie(at))
      },
      cancel: (event) => this.#queue.cancel(event),
      latency: () => (max === min ? min : this.#prng.range(min, max)),
      drop: () => this.#prng.chance(this.#dropRate),
      blocked: (a, b) => this.#isBlocked(a, b),
      node: (id) => this.#nodes.get(id),
      unregister: (node) => {
        if (this.#nodes.get(node.id) === node) this.#nodes.delete(node.id)
      },
      wireOpened: (wire) => this.#wires.add(wire),
      wireRetired: (wire) => {
        this.#wires.delete(wire)
        this.#stalled.delete(wire)
      },
      wireStalled: (wire) => this.#stalled.add(wire),
      linkId: (from, to) => `sim-${++this.#linkCount}:${from}->${to}`,
      trace: (event) => this.#trace?.(event),
      listenerError: (err) => this.#errors.push(err),
    }
  }
}

function pairKey(a: string, b: string): string {
  return `${a}\u0000${b}`
}
