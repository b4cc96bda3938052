import { P2PError } from '../errors.js'

/**
 * The `code` of the error `fn` throws, if it is a `kind` (default any P2PError); 'no error' if it
 * returns. Anything else it throws is rethrown, so a test fails on an unexpected error type.
 */
export function thrownCode(fn: () => unknown, kind: abstract new (...args: never[]) => P2PError = P2PError): string {
  try {
    fn()
  } catch (err: unknown) {
    if (err instanceof kind) return err.code
    throw err
  }
  return 'no error'
}
