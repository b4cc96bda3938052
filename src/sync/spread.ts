/**
 * Passing on what anti-entropy taught this node (anti-entropy.ts): a flood never carries writes
 * learnt by reconciliation, so a node that learnt some reconciles with its other neighbours. Pure:
 * times in, decisions out.
 *
 * A neighbour is due a spread when this node learnt something from *another* neighbour after the
 * last session it completed with this one began (a completed session leaves both sides with
 * everything either had when it began). So a neighbour that just reconciled with this node after
 * both learnt the same writes (the two ends of a link, each healed by its own counterpart) is not
 * probed again, and a node that learns in several steps spreads once, after a short wait
 * (SPREAD_DELAY_MS), instead of once per step.
 */

/** A spread waits between this and twice this (random: the two ends of a link rarely fire together). */
export const SPREAD_DELAY_MS = 250

export class SpreadPlan {
  /** The two teachers whose entries last changed the table, newest first (enough to answer "another than p"). */
  #latest: Array<[teacher: string, at: number]> = []
  /** Per neighbour: when the last session completed with it began. */
  readonly #synced = new Map<string, number>()

  /** Entries from `peer` changed the table at `now`. */
  learnt(peer: string, now: number): void {
    this.#latest = [[peer, now] as [string, number], ...this.#latest.filter(([t]) => t !== peer)].slice(0, 2)
  }

  /** A session with `peer` that began at `began` completed. */
  synced(peer: string, began: number): void {
    if (began > (this.#synced.get(peer) ?? -Infinity)) this.#synced.set(peer, began)
  }

  left(peer: string): void {
    this.#synced.delete(peer)
  }

  /** The neighbours among `peers` that may lack what this node learnt from another since their last session. */
  due(peers: readonly string[]): string[] {
    return peers.filter((p) => {
      const other = this.#latest.find(([teacher]) => teacher !== p)
      return other !== undefined && other[1] > (this.#synced.get(p) ?? -Infinity)
    })
  }
}
