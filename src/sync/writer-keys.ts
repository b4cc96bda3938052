import type { MeshPort } from '../mesh/protocol.js'
import type { KeyState } from './key-state.js'
import { writeStatement, type Write } from './write.js'

/**
 * Signed mode: the writers' public keys this node knows, and the check that a write is its
 * writer's. Keys are learned from verified writes (a flooded frame's key, a state transfer's key
 * list) and kept (`save`), so this node can relay those writes after a restart.
 */
export class WriterKeys {
  readonly #port: MeshPort
  readonly #save: (writer: string, publicKey: Uint8Array) => void
  readonly #keys = new Map<string, Uint8Array>()

  constructor(port: MeshPort, save: (writer: string, publicKey: Uint8Array) => void) {
    this.#port = port
    this.#save = save
  }

  /** Keys restored from storage. */
  restore(keys: Iterable<[string, Uint8Array]>): void {
    for (const [writer, pk] of keys) this.#keys.set(writer, pk)
  }

  /** Whether a remote write is its writer's (always true in the unsigned mode, where ownership is the claimed sender). */
  verified(key: string, w: Write, publicKey: Uint8Array | undefined): boolean | Promise<boolean> {
    if (!this.#port.signed) return true
    const pk = publicKey ?? this.#keys.get(w.writer)
    if (w.sig === undefined || pk === undefined) return false
    const learn = (ok: boolean): boolean => {
      if (ok && !this.#keys.has(w.writer)) {
        this.#keys.set(w.writer, pk)
        this.#save(w.writer, pk)
      }
      return ok
    }
    const ok = this.#port.verify(w.writer, pk, writeStatement(key, w), w.sig)
    return typeof ok === 'boolean' ? learn(ok) : ok.then(learn)
  }

  /**
   * A peer's entries with only the writes their writers signed (a checkpoint whose horizon write
   * is not signed is dropped); `forged` hears each write dropped.
   */
  async verifiedEntries(entries: Array<[string, KeyState]>, keys: Map<string, Uint8Array>, forged: (key: string, w: Write) => void): Promise<Array<[string, KeyState]>> {
    const checks = entries.map(async ([key, state]): Promise<[string, KeyState]> => {
      const valid = async (w: Write) => {
        const ok = await this.verified(key, w, keys.get(w.writer))
        if (!ok) forged(key, w)
        return ok
      }
      const base = state.base !== undefined && (await valid(state.base.horizon)) ? state.base : undefined
      const log: Write[] = []
      for (const w of state.log) if (await valid(w)) log.push(w)
      return [key, { base, log }]
    })
    return Promise.all(checks)
  }

  /** The public keys of these writers, as far as known, to send along with their writes; undefined in the unsigned mode. */
  publicKeys(writers: Iterable<string>): Array<[string, Uint8Array]> | undefined {
    if (!this.#port.signed) return undefined
    const out: Array<[string, Uint8Array]> = []
    for (const w of writers) {
      const pk = w === this.#port.id ? this.#port.publicKey : this.#keys.get(w)
      if (pk !== undefined) out.push([w, pk])
    }
    return out
  }
}
