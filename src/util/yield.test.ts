import { afterEach, describe, expect, it, vi } from 'vitest'
import { yieldToPage } from './yield.js'

describe('yieldToPage', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('uses scheduler.yield where the platform has it', async () => {
    const calls: string[] = []
    vi.stubGlobal('scheduler', { yield: () => (calls.push('yield'), Promise.resolve()) })
    await yieldToPage()
    expect(calls).toEqual(['yield'])
  })

  it('in a page without it, a MessageChannel message (not a throttled timer)', async () => {
    vi.stubGlobal('setImmediate', undefined)
    const timer = vi.spyOn(globalThis, 'setTimeout')
    const posted = vi.spyOn(MessagePort.prototype, 'postMessage')
    await yieldToPage()
    expect(timer).not.toHaveBeenCalled()
    expect(posted).toHaveBeenCalledTimes(1)
  })

  it('in Node, setImmediate: after pending I/O callbacks, before timers due later', async () => {
    const order: string[] = []
    setTimeout(() => order.push('timer'), 5)
    await yieldToPage()
    order.push('yielded')
    expect(order).toEqual(['yielded'])
  })
})
