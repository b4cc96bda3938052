import { P2PError } from 'p2p-today'

/** What the page shows for a failure: a P2PError's code, else a generic marker (never throws). */
export function errorCode(err: unknown): string {
  if (err instanceof P2PError) return err.code
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined
  if (typeof code === 'string' && code !== '') return code
  return 'UNEXPECTED_ERROR'
}

/** The longer text for a tooltip. */
export function errorDetail(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}
