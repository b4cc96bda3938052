import type { TimerHandle } from '../util/clock.js'
import type { RbsrSession } from './rbsr.js'

/** One anti-entropy session with a neighbour, as one side keeps it (anti-entropy.ts). */
export interface Session {
  readonly peer: string
  readonly sid: number
  readonly role: 'initiator' | 'responder'
  readonly rbsr: RbsrSession | undefined
  /** When it opened here (its snapshot of the table is from then). */
  readonly began: number
  /** Our sends, in order (entries, then our 'retrieved'). */
  sending: Promise<void>
  sent: number
  doneSent: boolean
  doneReceived: boolean
  /** Reconciliation messages received in this session. */
  rounds: number
  timer: TimerHandle | undefined
  /** Resolved when the session ends: true when complete, false when dropped. */
  ended: (complete: boolean) => void
  complete: boolean
  /** The reconciliation found a difference, either way. */
  differed: boolean
  readonly done: Promise<boolean>
}

/** A session not complete by then is dropped (the peer stalled or misbehaves); a later one starts afresh. */
export const SESSION_TIMEOUT_MS = 120_000

/**
 * A reconciliation a neighbour opens while another session may still bring entries waits for it
 * at most this long: a peer that stalls its session must not hold up the node's others.
 */
export const LEARNING_WAIT_MS = 2_000

/** A session gets at most this many reconciliation messages (a hostile peer could keep one going forever). */
export const MAX_ROUNDS = 256

/**
 * A session first reconciles only the newest items: this many, or 1/128 of the table if more.
 * What changed while two nodes were apart sits there; a key's old item, spread anywhere in the
 * order, needs no finding once its new state has arrived. A session of the whole set follows.
 * Small on purpose: the keys of the tail go with their writes since its start only (recentPart),
 * and every old item inside it is a difference to list (at 512 items, a simulated heal of the
 * bench's shape sent ~1.4× the bytes it sends at 64).
 */
export const TAIL_ITEMS = 64

export function tailOf(size: number): number | undefined {
  const tail = Math.max(TAIL_ITEMS, Math.ceil(size / 128))
  return tail < size ? tail : undefined
}

/**
 * Whether a session may still bring entries: open at both ends (the peer answered, or opened it;
 * so it waits on nothing that waits on this node) and neither found equal nor fully merged.
 */
export function mayBringEntries(s: Session): boolean {
  const engaged = s.role === 'responder' || s.rbsr === undefined || s.rounds > 0
  return engaged && !s.doneReceived && (s.rbsr?.done !== true || s.differed)
}
