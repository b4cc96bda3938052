import type { MeshPort } from '../mesh/protocol.js'
import type { Hlc } from './hlc.js'
import { BATCH_FLOOD_BYTES, writeBatches } from './entry-batches.js'
import { SYNC_FLAGS as F, batchItems } from './messages.js'
import type { Change, Table } from './table.js'
import { groupStatement, inGroup, treeOf, writeStatement, type Write, type WriteGroup, type WriteKind } from './write.js'
import type { WriterKeys } from './writer-keys.js'

/** A local write waiting to be sent, and its caller. */
interface Pending {
  readonly key: string
  readonly write: Write
  resolve(): void
  reject(err: unknown): void
}

/** What the outbox needs from its sync table. */
export interface OutboxHost {
  readonly port: MeshPort
  readonly table: Table
  readonly writers: WriterKeys
  /** Throws the named error a local write gets now (LEASE_HELD, …). */
  check(key: string, kind: WriteKind, value: unknown, stamp: Hlc): void
  /** A local write changed the table: events and storage. */
  changed(change: Change): void
}

/**
 * Local writes on their way out: the writes made in one task are signed and flooded together
 * (a lone one as 0.7's message, several as groups with one signature each).
 */
export class Outbox {
  readonly #host: OutboxHost
  #pending: Pending[] = []

  constructor(host: OutboxHost) {
    this.#host = host
  }

  /** Queues a stamped, checked write; resolves when its message is handed to the links. */
  send(key: string, write: Write): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ key, write, resolve, reject })
      if (this.#pending.length === 1) queueMicrotask(() => void this.#flush())
    })
  }

  /**
   * Sends the local writes made in one task: a lone write as 0.7's message (`store`, `delta`,
   * `revoke`), several as flooded batches of up to 1,024 writes (~128 KiB) with, in the signed
   * mode, one signature each over their hash tree. A write whose key another node took while
   * signing is refused (LEASE_HELD), the others go on.
   */
  async #flush(): Promise<void> {
    const pending = this.#pending
    this.#pending = []
    if (pending.length === 1) return this.#settle(pending, this.#sendOne(pending[0]!))
    for (const batch of writeBatches(pending, BATCH_FLOOD_BYTES)) {
      try {
        const { sent, writes } = await this.#sendBatch(batch)
        this.#settle(writes, sent)
      } catch (err: unknown) {
        for (const p of batch) p.reject(err)
      }
    }
  }

  #settle(writes: Pending[], sent: Promise<void>): void {
    sent.then(
      () => writes.forEach((p) => p.resolve()),
      (err: unknown) => writes.forEach((p) => p.reject(err)),
    )
  }

  /** Signs (signed mode) and inserts one write, then floods it as 0.7's message. */
  async #sendOne({ key, write: plain }: Pending): Promise<void> {
    const { kind, stamp, value } = plain
    let write = plain
    if (this.#host.port.signed) {
      // Signed so that any node can relay it (anti-entropy) and every replica can check who wrote it.
      write = { ...plain, sig: await this.#host.port.sign(writeStatement(key, plain)) }
      this.#host.check(key, kind, value, stamp) // the table may have moved while signing
    }
    const { change } = this.#host.table.insert(key, write)
    if (change !== undefined) this.#host.changed(change)
    const sig = write.sig === undefined ? [] : [write.sig]
    switch (kind) {
      case 'set':
        return this.#host.port.broadcast(F.store, key, value, stamp.ms, stamp.counter, ...sig)
      case 'delete':
        return this.#host.port.broadcast(F.store, key, null, stamp.ms, stamp.counter, ...sig)
      case 'delta':
        return this.#host.port.broadcast(F.delta, key, value, stamp.ms, stamp.counter, ...sig)
      case 'release':
        return this.#host.port.broadcast(F.revoke, key, stamp.ms, stamp.counter, ...sig)
    }
  }

  /** Signs (signed mode) and inserts a batch of writes, then floods it as one `batch` message; the writes that still stood after signing, and the send. */
  async #sendBatch(batch: Pending[]): Promise<{ writes: Pending[]; sent: Promise<void> }> {
    let writes = batch
    let grouped = writes.map((p): [string, Write] => [p.key, p.write])
    let sig: Uint8Array[] = []
    if (this.#host.port.signed) {
      for (;;) {
        const tree = treeOf(grouped)
        const group: WriteGroup = { writer: this.#host.port.id, sig: await this.#host.port.sign(groupStatement(grouped.length, tree.root!)), size: grouped.length, tree }
        // The table may have moved while signing: a write refused now is left out, and the rest signed again.
        const standing = writes.filter((p) => {
          try {
            this.#host.check(p.key, p.write.kind, p.write.value, p.write.stamp)
            return true
          } catch (err: unknown) {
            p.reject(err)
            return false
          }
        })
        if (standing.length === writes.length) {
          this.#host.writers.own(group)
          grouped = grouped.map(([key, w], index) => [key, inGroup(w, group, index)])
          sig = [group.sig]
          break
        }
        writes = standing
        grouped = writes.map((p): [string, Write] => [p.key, p.write])
        if (writes.length === 0) return { writes, sent: Promise.resolve() }
      }
    }
    for (const [key, w] of grouped) {
      const { change } = this.#host.table.insert(key, w)
      if (change !== undefined) this.#host.changed(change)
    }
    return { writes, sent: this.#host.port.broadcast(F.batch, grouped.map(([key, w]) => batchItems(key, w)), ...sig) }
  }
}
