import { describe, expect, it } from 'vitest'
import { WaitForTimeoutError, waitFor } from './wait-for.js'

describe('waitFor (real time; simulated tests use net.runUntil)', () => {
  it('resolves at once when the predicate already holds', async () => {
    await waitFor(() => true, { timeoutMs: 0 })
  })

  it('resolves once an async state change makes it true', async () => {
    let ready = false
    setTimeout(() => (ready = true), 5)
    await waitFor(() => ready, { timeoutMs: 5_000, what: 'ready' })
    expect(ready).toBe(true)
  })

  it('rejects with WaitForTimeoutError naming what it waited for, with the last thrown error as cause', async () => {
    const err = await waitFor(
      () => {
        throw new Error('not yet')
      },
      { timeoutMs: 30, intervalMs: 5, what: 'the impossible' },
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WaitForTimeoutError)
    expect((err as Error).message).toContain('the impossible')
    expect(((err as Error).cause as Error).message).toBe('not yet')
  })

  it('accepts async predicates', async () => {
    let n = 0
    await waitFor(async () => ++n >= 3, { intervalMs: 1 })
    expect(n).toBe(3)
  })
})
