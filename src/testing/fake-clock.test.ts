import { describe, expect, it } from 'vitest'
import type { Clock } from '../util/clock.js'
import { systemClock } from '../util/clock.js'
import { FakeClock } from './fake-clock.js'

describe('FakeClock', () => {
  it('fires timers in due order, FIFO when due together, with now() at their due time', () => {
    const clock = new FakeClock({ startTime: 100 })
    const fired: string[] = []
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20)
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10)
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20)
    clock.setTimeout(() => fired.push(`zero@${clock.now()}`), -5)
    clock.advance(15)
    expect(fired).toEqual(['zero@100', 'a@110'])
    expect(clock.now()).toBe(115)
    clock.advance(5)
    expect(fired).toEqual(['zero@100', 'a@110', 'b@120', 'c@120'])
    expect(clock.pending).toBe(0)
  })

  it('clearTimeout cancels; clearing twice, after firing, or undefined is harmless', () => {
    const clock = new FakeClock()
    let fired = 0
    const h = clock.setTimeout(() => fired++, 10)
    const done = clock.setTimeout(() => fired++, 1)
    clock.advance(1)
    clock.clearTimeout(h)
    clock.clearTimeout(h)
    clock.clearTimeout(done)
    clock.clearTimeout(undefined)
    clock.advance(100)
    expect(fired).toBe(1)
  })

  it('advance() also fires timers set by timers within the window', () => {
    const clock = new FakeClock()
    const fired: number[] = []
    const tick = (): void => {
      fired.push(clock.now())
      clock.setTimeout(tick, 10)
    }
    clock.setTimeout(tick, 10)
    clock.advance(35)
    expect(fired).toEqual([10, 20, 30])
    expect(clock.now()).toBe(35)
  })

  it('runAll() drains, and throws on a timer that keeps re-arming', () => {
    const clock = new FakeClock()
    let n = 0
    clock.setTimeout(() => clock.setTimeout(() => n++, 1000), 1000)
    clock.runAll()
    expect([n, clock.now()]).toEqual([1, 2000])
    const rearm = (): void => void clock.setTimeout(rearm, 1)
    rearm()
    expect(() => clock.runAll(100)).toThrow(RangeError)
  })

  it('the async variants let awaited code run between timers', async () => {
    const clock = new FakeClock()
    const log: string[] = []
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms))
    const task = (async () => {
      await sleep(10)
      log.push(`woke@${clock.now()}`)
      await sleep(10)
      log.push(`woke@${clock.now()}`)
    })()
    await clock.advanceAsync(25)
    await task
    expect(log).toEqual(['woke@10', 'woke@20'])
    const more = sleep(5).then(() => log.push('more'))
    await clock.runAllAsync()
    await more
    expect(log.at(-1)).toBe('more')
  })

  it('systemClock implements the same interface with real timers', async () => {
    const clock: Clock = systemClock
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(1000)
    let cancelled = true
    clock.clearTimeout(clock.setTimeout(() => (cancelled = false), 0))
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 1))
    expect(cancelled).toBe(true)
    clock.clearTimeout(undefined)
  })
})
