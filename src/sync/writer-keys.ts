import type { MeshPort } from '../mesh/protocol.js'
import type { KeyState } from './key-state.js'
import { binaryKey, equalBytes } from '../util/bytes.js'
import { groupStatement, inGroup, treeOf, writeLeaf, writeStatement, type Write, type WriteGroup } from './write.js'

/** Verified groups remembered (their later writes need no signature check), at most. */
const GROUPS_KEPT = 4_096

/**
 * Signed mode: the writers' public keys this node knows, and the check that a write is its
 * writer's. Keys are learned from verified writes (a flooded frame's key, a state transfer's key
 * list) and kept (`save`), so this node can relay those writes after a restart.
 */
export class WriterKeys {
  readonly #port: MeshPort
  readonly #save: (writer: string, publicKey: Uint8Array) => void
  readonly #keys = new Map<string, Uint8Array>()
  /** Groups verified (or being verified), by writer and signature: their leaves, complete. */
  readonly #groups = new Map<string, Promise<WriteGroup | undefined>>()
  /** Signatures checked. */
  checks = 0

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
      if (ok) this.#learn(w.writer, pk)
      return ok
    }
    this.checks++
    const ok = this.#port.verify(w.writer, pk, writeStatement(key, w), w.sig)
    return typeof ok === 'boolean' ? learn(ok) : ok.then(learn)
  }

  /** Remembers a group this node signed, so its writes coming back need no check. */
  own(group: WriteGroup): void {
    this.#remember(group, Promise.resolve(group))
  }

  /**
   * A flooded batch's writes with their group, if `sig` is the writer's signature over their
   * leaves (one check for the whole batch); undefined if not. Unsigned mode: the writes as they are.
   */
  async verifiedBatch(writer: string, writes: Array<[string, Write]>, sig: Uint8Array | undefined, publicKey: Uint8Array | undefined): Promise<Array<[string, Write]> | undefined> {
    if (!this.#port.signed) return writes
    if (sig === undefined) return undefined
    const group = await this.#verifyGroup({ writer, sig, size: writes.length, tree: treeOf(writes) }, publicKey)
    return group && writes.map(([key, w], index) => [key, inGroup(w, group, index)])
  }

  /**
   * A peer's entries with only the writes their writers signed (a checkpoint whose horizon write
   * is not signed is dropped); `forged` hears each write dropped. A group's root is computed from
   * its writes here and the tree nodes the message gave; its signature is checked once (a root
   * met again is compared with the one remembered).
   */
  async verifiedEntries(entries: Array<[string, KeyState]>, keys: Map<string, Uint8Array>, forged: (key: string, w: Write) => void): Promise<Array<[string, KeyState]>> {
    const present = new Map<WriteGroup, Array<[string, Write]>>()
    for (const [key, state] of entries) {
      for (const w of state.base === undefined ? state.log : [state.base.horizon, ...state.log]) {
        if (w.group === undefined) continue
        const list = present.get(w.group) ?? []
        list.push([key, w])
        present.set(w.group, list)
      }
    }
    const groups = new Map<WriteGroup, Promise<WriteGroup | undefined>>()
    for (const [g, writes] of present) groups.set(g, this.#groupOf(g, writes, keys.get(g.writer)))
    const checks = entries.map(async ([key, state]): Promise<[string, KeyState]> => {
      const valid = async (w: Write): Promise<Write | undefined> => {
        let out: Write | undefined
        if (w.group === undefined) out = (await this.verified(key, w, keys.get(w.writer))) ? w : undefined
        else {
          const g = await groups.get(w.group)
          const leaf = g?.tree.node(0, w.index!)
          if (g !== undefined && leaf !== undefined && equalBytes(writeLeaf(key, w), leaf)) out = inGroup(w, g)
        }
        if (out === undefined) forged(key, w)
        return out
      }
      const horizon = state.base === undefined ? undefined : await valid(state.base.horizon)
      const base = horizon === undefined ? undefined : { ...state.base!, horizon }
      const log: Write[] = []
      for (const w of state.log) {
        const v = await valid(w)
        if (v !== undefined) log.push(v)
      }
      return [key, { base, log }]
    })
    return Promise.all(checks)
  }

  /** A group as verified: its root computed from the writes here and the nodes given, then checked (or compared with the root remembered). */
  #groupOf(g: WriteGroup, writes: Array<[string, Write]>, publicKey: Uint8Array | undefined): Promise<WriteGroup | undefined> {
    // The decoded group's tree is this message's own: the carried leaves go in (a second write
    // claiming a taken place does not: its leaf check fails below).
    for (const [key, w] of writes) g.tree.set(0, w.index!, writeLeaf(key, w))
    if (g.tree.fill() === undefined) return Promise.resolve(undefined)
    return this.#verifyGroup(g, publicKey)
  }

  /** `g` (its tree's root computed) checked: a group known by its signature must have the same root, and then gains `g`'s nodes. */
  #verifyGroup(g: WriteGroup, publicKey: Uint8Array | undefined): Promise<WriteGroup | undefined> {
    const root = g.tree.root!
    const known = this.#groups.get(groupId(g))
    if (known !== undefined) {
      return known.then((k) => {
        if (k === undefined || k.size !== g.size || !equalBytes(k.tree.root!, root)) return undefined
        k.tree.merge(g.tree)
        return k
      })
    }
    const pk = publicKey ?? this.#keys.get(g.writer)
    if (pk === undefined) return Promise.resolve(undefined)
    this.checks++
    const checked = Promise.resolve(this.#port.verify(g.writer, pk, groupStatement(g.size, root), g.sig)).then((ok) => {
      if (!ok) {
        this.#groups.delete(groupId(g))
        return undefined
      }
      this.#learn(g.writer, pk)
      return g
    })
    this.#remember(g, checked)
    return checked
  }

  #remember(g: WriteGroup, verified: Promise<WriteGroup | undefined>): void {
    if (this.#groups.size >= GROUPS_KEPT) this.#groups.delete(this.#groups.keys().next().value!)
    this.#groups.set(groupId(g), verified)
  }

  #learn(writer: string, pk: Uint8Array): void {
    if (this.#keys.has(writer)) return
    this.#keys.set(writer, pk)
    this.#save(writer, pk)
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

/** A group's name: its writer and signature. */
function groupId(g: WriteGroup): string {
  return g.writer + binaryKey(g.sig)
}
