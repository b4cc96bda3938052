/**
 * Who is registered: sessions by id, ids by subnet, counts by IP. The PeerJS realm knows ids
 * only; this registry adds the subnet and the address so that discovery and relaying stay
 * inside a subnet and per-IP limits can be enforced.
 */
export interface Session<S = unknown> {
  readonly id: string
  readonly net: string
  readonly ip: string
  readonly socket: S
}

export class SessionRegistry<S = unknown> {
  readonly #byId = new Map<string, Session<S>>()
  readonly #byNet = new Map<string, Set<string>>()
  readonly #byIp = new Map<string, number>()

  get size(): number {
    return this.#byId.size
  }

  get(id: string): Session<S> | undefined {
    return this.#byId.get(id)
  }

  has(id: string): boolean {
    return this.#byId.has(id)
  }

  countIp(ip: string): number {
    return this.#byIp.get(ip) ?? 0
  }

  /** Adds `session`; false (and no change) if its id is registered already. */
  add(session: Session<S>): boolean {
    if (this.#byId.has(session.id)) return false
    this.#byId.set(session.id, session)
    let ids = this.#byNet.get(session.net)
    if (ids === undefined) {
      ids = new Set()
      this.#byNet.set(session.net, ids)
    }
    ids.add(session.id)
    this.#byIp.set(session.ip, this.countIp(session.ip) + 1)
    return true
  }

  /** Removes exactly this session (not a later one that reuses its id). Idempotent. */
  remove(session: Session<S>): void {
    if (this.#byId.get(session.id) !== session) return
    this.#byId.delete(session.id)
    const ids = this.#byNet.get(session.net)
    ids?.delete(session.id)
    if (ids?.size === 0) this.#byNet.delete(session.net)
    const count = this.countIp(session.ip) - 1
    if (count > 0) this.#byIp.set(session.ip, count)
    else this.#byIp.delete(session.ip)
  }

  /** True if `to` is registered in `net` and is not `from`: the only destinations a client may signal. */
  canRelay(from: Session<S>, to: string): boolean {
    const target = this.#byId.get(to)
    return target !== undefined && target !== from && target.net === from.net
  }

  /** Up to `limit` ids of `net` other than `exclude`, uniformly sampled without replacement. */
  sample(net: string, exclude: string, limit: number, random: () => number): string[] {
    const ids = [...(this.#byNet.get(net) ?? [])].filter((id) => id !== exclude)
    const n = Math.min(limit, ids.length)
    for (let i = 0; i < n; i++) {
      const j = Math.min(ids.length - 1, i + Math.floor(random() * (ids.length - i)))
      const picked = ids[j]!
      ids[j] = ids[i]!
      ids[i] = picked
    }
    return ids.slice(0, n)
  }
}
