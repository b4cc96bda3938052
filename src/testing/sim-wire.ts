import { TransportError } from '../errors.js'
import { QueuedLink } from '../transport/memory.js'
import type { LinkCarrier } from '../transport/memory.js'
import type { SimEngine, SimNode } from './sim-types.js'

type Item = { kind: 'data'; data: Uint8Array; at: number; lost: boolean } | { kind: 'close'; at: number }

/** One direction of a wire: the receiver's FIFO queue of messages from one sender. */
type Direction = {
  readonly from: QueuedLink
  readonly to: QueuedLink
  readonly fromNode: SimNode
  readonly toNode: SimNode
  readonly queue: Item[]
  /** Time the last queued item is due (keeps per-link FIFO under random latency). */
  lastAt: number
  scheduled: boolean
  stalled: boolean
}

/**
 * @internal A simulated connection between two nodes: a link end on each, and per direction a
 * queue whose head is an event in the network's scheduler. Only heads are scheduled, so the
 * scheduler's random tie-break shuffles delivery across links but never within one.
 */
export class SimWire implements LinkCarrier {
  readonly ends: readonly [QueuedLink, QueuedLink]
  readonly nodes: readonly [SimNode, SimNode]
  readonly #engine: SimEngine
  readonly #dirs: readonly [Direction, Direction]
  #failed = false
  #retired = false

  constructor(engine: SimEngine, a: SimNode, b: SimNode) {
    this.#engine = engine
    this.nodes = [a, b]
    const make = (self: SimNode, peer: SimNode): QueuedLink =>
      new QueuedLink({
        id: engine.linkId(self.id, peer.id),
        remoteId: peer.id,
        limits: engine.limits,
        carrier: this,
        onListenerError: (err) => engine.listenerError(err),
      })
    this.ends = [make(a, b), make(b, a)]
    const dir = (i: 0 | 1): Direction => {
      const j = i === 0 ? 1 : 0
      const [from, to, fromNode, toNode] = [this.ends[i], this.ends[j], this.nodes[i], this.nodes[j]]
      return { from, to, fromNode, toNode, queue: [], lastAt: 0, scheduled: false, stalled: false }
    }
    this.#dirs = [dir(0), dir(1)]
    a.wires.add(this)
    b.wires.add(this)
    engine.wireOpened(this)
    engine.trace({ time: engine.now(), type: 'link', from: a.id, to: b.id })
  }

  endOf(node: SimNode): QueuedLink {
    return this.nodes[0] === node ? this.ends[0] : this.ends[1]
  }

  accept(from: QueuedLink, data: Uint8Array): void {
    const engine = this.#engine
    const dir = this.#dirOf(from)
    engine.stats.sent++
    engine.stats.bytesSent += data.byteLength
    if (!dir.fromNode.alive || this.#failed) return this.#lose(dir, data) // a dead node's sends go nowhere
    this.#enqueue(dir, { kind: 'data', data, at: 0, lost: engine.drop() })
  }

  close(from: QueuedLink): Promise<void> {
    const dir = this.#dirOf(from)
    if (dir.fromNode.alive && !this.#failed) this.#enqueue(dir, { kind: 'close', at: 0 })
    this.#maybeRetire()
    return Promise.resolve()
  }

  /** The partition healed: stalled directions resume, their heads one latency from now. */
  resume(): void {
    for (const dir of this.#dirs) {
      if (!dir.stalled) continue
      dir.stalled = false
      const head = dir.queue[0]
      if (head !== undefined) head.at = this.#engine.now() + this.#engine.latency()
      this.#kick(dir)
    }
  }

  /** `dead` was killed: nothing more leaves it; the far end fails after the detection delay. */
  kill(dead: SimNode): void {
    for (const dir of this.#dirs) {
      if (dir.fromNode === dead) for (const item of dir.queue.splice(0)) if (item.kind === 'data') this.#lose(dir, item.data)
    }
    const engine = this.#engine
    engine.schedule(engine.now() + engine.failureDetectionMs, () => {
      const reason = new TransportError('LINK_FAILED', `peer '${dead.id}' stopped responding`)
      this.fail(reason)
    })
  }

  /** Fails the end(s) on live nodes with `reason` (LINK_FAILED); whatever is queued is lost. */
  fail(reason: TransportError): void {
    if (this.#failed) return
    this.#failed = true
    for (const dir of this.#dirs) for (const item of dir.queue.splice(0)) if (item.kind === 'data') this.#lose(dir, item.data)
    for (const i of [0, 1] as const) {
      const end = this.ends[i]
      if (!this.nodes[i].alive) continue // a dead node observes nothing
      if (end.state !== 'closed') {
        const [from, to] = i === 0 ? [this.nodes[1].id, this.nodes[0].id] : [this.nodes[0].id, this.nodes[1].id]
        this.#engine.trace({ time: this.#engine.now(), type: 'fail', from, to })
      }
      end.terminate(reason)
    }
    this.#maybeRetire()
  }

  #dirOf(end: QueuedLink): Direction {
    return this.#dirs[0].from === end ? this.#dirs[0] : this.#dirs[1]
  }

  #enqueue(dir: Direction, item: Item): void {
    const engine = this.#engine
    item.at = Math.max(engine.now() + engine.latency(), dir.lastAt)
    dir.lastAt = item.at
    dir.queue.push(item)
    this.#kick(dir)
  }

  #kick(dir: Direction): void {
    const head = dir.queue[0]
    if (dir.scheduled || dir.stalled || head === undefined) return
    dir.scheduled = true
    this.#engine.schedule(head.at, () => this.#fire(dir))
  }

  #fire(dir: Direction): void {
    dir.scheduled = false
    const engine = this.#engine
    const item = dir.queue[0]
    if (item === undefined) return
    if (dir.toNode.alive && engine.blocked(dir.fromNode.id, dir.toNode.id)) {
      dir.stalled = true // held until heal(), or lost when failure detection fails the link
      engine.wireStalled(this)
      return
    }
    dir.queue.shift()
    if (!dir.toNode.alive) {
      if (item.kind === 'data') this.#lose(dir, item.data) // a dead node receives nothing, not even a close
    } else if (item.kind === 'close') {
      engine.trace({ time: engine.now(), type: 'close', from: dir.fromNode.id, to: dir.toNode.id })
      dir.to.terminate(new TransportError('LINK_CLOSED', `link ${dir.to.id} was closed by the remote peer`))
      const back = dir === this.#dirs[0] ? this.#dirs[1] : this.#dirs[0]
      for (const lost of back.queue.splice(0)) if (lost.kind === 'data') this.#lose(back, lost.data)
    } else if (item.lost || dir.to.state === 'closed') {
      this.#lose(dir, item.data)
    } else {
      dir.from.drained(item.data.byteLength)
      engine.stats.delivered++
      engine.stats.bytesDelivered += item.data.byteLength
      engine.trace({ time: engine.now(), type: 'deliver', from: dir.fromNode.id, to: dir.toNode.id, bytes: item.data.byteLength })
      dir.to.receive(item.data)
    }
    this.#kick(dir)
    this.#maybeRetire()
  }

  #lose(dir: Direction, data: Uint8Array): void {
    const engine = this.#engine
    dir.from.drained(data.byteLength)
    engine.stats.dropped++
    engine.trace({ time: engine.now(), type: 'drop', from: dir.fromNode.id, to: dir.toNode.id, bytes: data.byteLength })
  }

  #maybeRetire(): void {
    if (this.#retired) return
    const quiet = this.#dirs.every((d) => d.queue.length === 0)
    if (!this.#failed && !(quiet && this.ends.every((e) => e.state === 'closed'))) return
    this.#retired = true
    for (const node of this.nodes) node.wires.delete(this)
    this.#engine.wireRetired(this)
  }
}
