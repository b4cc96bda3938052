import { describe, expect, it } from 'vitest'
import { TimerOwner, type Scheduler } from './owned-timers.js'

/** A manual scheduler: timers fire when the test says so. */
class ManualScheduler implements Scheduler<FakeTimer> {
  readonly pending = new Set<FakeTimer>()
  setTimeout(callback: () => void): FakeTimer {
    const timer = new FakeTimer(callback)
    this.pending.add(timer)
    return timer
  }
  clearTimeout(timer: FakeTimer): void {
    this.pending.delete(timer)
  }
  fireAll(): void {
    for (const timer of [...this.pending]) {
      this.pending.delete(timer)
      timer.callback()
    }
  }
}

class FakeTimer {
  refed = true
  constructor(readonly callback: () => void) {}
  unref(): this {
    this.refed = false
    return this
  }
}

/** A loop like PeerJS's: each tick schedules the next with the global setTimeout. */
function startLoop(onTick: () => void): void {
  const tick = (): void => {
    onTick()
    setTimeout(tick, 300)
  }
  setTimeout(tick, 300)
}

describe('TimerOwner', () => {
  it('records a self-rescheduling loop through every tick, unref()ed, and kills it on clear()', () => {
    const scheduler = new ManualScheduler()
    const owner = new TimerOwner(scheduler)
    let ticks = 0
    owner.run(() => startLoop(() => ticks++))
    for (let i = 0; i < 3; i++) {
      expect(scheduler.pending.size).toBe(1)
      expect([...scheduler.pending][0]!.refed).toBe(false)
      scheduler.fireAll()
    }
    expect(ticks).toBe(3)
    expect(owner.size).toBe(1)
    owner.clear()
    expect(owner.size).toBe(0)
    // Nothing left to fire: the loop cannot run again.
    expect(scheduler.pending.size).toBe(0)
    owner.clear()
  })

  it('cancels timers recorded after clear() at once', () => {
    const scheduler = new ManualScheduler()
    const owner = new TimerOwner(scheduler)
    owner.clear()
    owner.run(() => setTimeout(() => {}, 1))
    expect(scheduler.pending.size).toBe(0)
  })

  it('only swaps setTimeout during its own runs, even when they throw', () => {
    const before = globalThis.setTimeout
    const owner = new TimerOwner(new ManualScheduler())
    owner.run(() => expect(globalThis.setTimeout).not.toBe(before))
    expect(globalThis.setTimeout).toBe(before)
    expect(() =>
      owner.run(() => {
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(globalThis.setTimeout).toBe(before)
  })

  it('uses the platform timers by default, unref()ed', () => {
    const owner = new TimerOwner()
    const timer = owner.run(() => setTimeout(() => {}, 60_000))
    expect(timer.hasRef()).toBe(false)
    owner.clear()
  })
})
