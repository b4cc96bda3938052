import type { LinkLimits } from '../transport/memory.js'
import type { QueuedEvent, VirtualClock } from './event-queue.js'
import type { SimTransport } from './sim-transport.js'
import type { SimWire } from './sim-wire.js'

/** Counters of a SimNetwork (messages are data messages; close notices are not counted). */
export type SimStats = {
  /** Events processed (deliveries, timers, dials, failure detections). */
  steps: number
  /** Messages accepted by send() on sim links, including ones later dropped. */
  sent: number
  delivered: number
  /** Lost to `dropRate`, sent by or to a killed node, or still queued when a link failed or closed under them. */
  dropped: number
  bytesSent: number
  bytesDelivered: number
}

/** One line of a simulation's history, for replaying and diffing failing seeds. */
export type SimTraceEvent = {
  time: number
  type: 'deliver' | 'drop' | 'close' | 'fail' | 'link' | 'dial-failed'
  /** Node ids: sender and receiver (or dialer and dialed). */
  from: string
  to: string
  /** Message size, for deliver/drop. */
  bytes?: number
}

/** @internal One node of the simulation: a transport id, alive until killed. */
export interface SimNode {
  readonly id: string
  alive: boolean
  readonly transport: SimTransport
  /** Timers owned by the node: stopped when it is killed. */
  readonly clock: VirtualClock
  /** Live links that have this node at one end. */
  readonly wires: Set<SimWire>
}

/** @internal What SimWire and SimTransport need from the network. */
export interface SimEngine {
  readonly limits: Required<LinkLimits>
  readonly stats: SimStats
  readonly dialTimeoutMs: number
  readonly failureDetectionMs: number
  now(): number
  /** Schedules `run` at `time` (not before now), after events due earlier, in seeded random order among events due together. */
  schedule(time: number, run: () => void): QueuedEvent
  cancel(event: QueuedEvent): void
  /** One-way latency sample. */
  latency(): number
  /** Whether to lose this message (dropRate). */
  drop(): boolean
  blocked(a: string, b: string): boolean
  /** The node registered as `id` (alive or killed), if any. */
  node(id: string): SimNode | undefined
  unregister(node: SimNode): void
  wireOpened(wire: SimWire): void
  wireRetired(wire: SimWire): void
  wireStalled(wire: SimWire): void
  linkId(from: string, to: string): string
  trace(event: SimTraceEvent): void
  listenerError(err: unknown): void
}
