/** Where the demo joins, before the user edits it: the URL's query, then the build's env. */
export interface JoinDefaults {
  signaling: string
  subnet: string
}

export const FALLBACK_SIGNALING = 'http://127.0.0.1:9000'
export const FALLBACK_SUBNET = 'demo'

/**
 * `?signal=` else `VITE_P2P_SIGNALING` (set by `npm start`, baked in at build time) else
 * http://127.0.0.1:9000; `?subnet=` else 'demo'. Empty values count as absent.
 */
export function joinDefaults(search: string, envSignaling: unknown): JoinDefaults {
  const params = new URLSearchParams(search)
  const pick = (...values: unknown[]): string | undefined =>
    values.find((v): v is string => typeof v === 'string' && v.trim() !== '')?.trim()
  return {
    signaling: pick(params.get('signal'), envSignaling) ?? FALLBACK_SIGNALING,
    subnet: pick(params.get('subnet')) ?? FALLBACK_SUBNET,
  }
}
