import type { MeshSocketOptions, SyncSocketOptions } from 'p2p-today'

/** Mesh options the page's URL may set (for tests and experiments; the page shows no control for them). */
export type MeshTuning = Pick<MeshSocketOptions, 'maxOutgoing' | 'rediscoverMs' | 'reachCheckMs'>
/** Sync table options the page's URL may set, the same way. */
export type SyncTuning = Pick<SyncSocketOptions, 'persistDelayMs'>

/** Where the demo joins, before the user edits it: the URL's query, then the build's env. */
export interface JoinDefaults {
  signaling: string
  subnet: string
  tuning: MeshTuning
  syncTuning: SyncTuning
}

export const FALLBACK_SIGNALING = 'http://127.0.0.1:9000'
export const FALLBACK_SUBNET = 'demo'

/** URL parameters that set a numeric mesh option (`out` as in the e2e mesh harness). */
const TUNING = { out: 'maxOutgoing', rediscover: 'rediscoverMs', reach: 'reachCheckMs' } as const
/** URL parameters that set a numeric sync table option. */
const SYNC_TUNING = { persist: 'persistDelayMs' } as const

/**
 * `?signal=` else `VITE_P2P_SIGNALING` (set by `npm start`, baked in at build time) else
 * http://127.0.0.1:9000; `?subnet=` else 'demo'; `?out=` (maxOutgoing), `?rediscover=`
 * (rediscoverMs, in ms) and `?reach=` (reachCheckMs, in ms) as numbers, which the MeshSocket
 * checks; `?persist=` (persistDelayMs, in ms) for the sync panel, which its SyncSocket checks.
 * Empty values count as absent.
 */
export function joinDefaults(search: string, envSignaling: unknown): JoinDefaults {
  const params = new URLSearchParams(search)
  const pick = (...values: unknown[]): string | undefined =>
    values.find((v): v is string => typeof v === 'string' && v.trim() !== '')?.trim()
  /** The options `names` maps URL parameters to, from the parameters given. */
  const numbers = <O extends string>(names: Record<string, O>): Partial<Record<O, number>> => {
    const out: Partial<Record<O, number>> = {}
    for (const [param, option] of Object.entries(names)) {
      const value = pick(params.get(param))
      if (value !== undefined) out[option] = Number(value)
    }
    return out
  }
  return {
    signaling: pick(params.get('signal'), envSignaling) ?? FALLBACK_SIGNALING,
    subnet: pick(params.get('subnet')) ?? FALLBACK_SUBNET,
    tuning: numbers(TUNING),
    syncTuning: numbers(SYNC_TUNING),
  }
}
