import { describe, expect, it } from 'vitest'
import { andThen, isPromise, Serial } from './serial.js'

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

describe('andThen', () => {
  it('applies at once to a value and later to a promise', async () => {
    expect(andThen(2, (x) => x + 1)).toBe(3)
    const later = andThen(Promise.resolve(2), (x) => x + 1)
    expect(isPromise(later)).toBe(true)
    expect(await later).toBe(3)
  })
})

describe('Serial', () => {
  it('runs a job synchronously when idle and it returns a value', () => {
    const serial = new Serial()
    const order: number[] = []
    serial.push(() => void order.push(1))
    serial.push(() => void order.push(2))
    expect(order).toEqual([1, 2])
    expect(serial.pending).toBe(0)
  })

  it('keeps call order behind a job that returns a promise, even when later jobs are synchronous', async () => {
    const serial = new Serial()
    const order: string[] = []
    const slow = deferred<void>()
    serial.push(() => slow.promise.then(() => void order.push('slow')))
    serial.push(() => void order.push('sync'))
    const last = serial.run(() => {
      order.push('last')
      return 42
    })
    expect(order).toEqual([])
    expect(serial.pending).toBe(3)
    slow.resolve()
    expect(await last).toBe(42)
    expect(order).toEqual(['slow', 'sync', 'last'])
    expect(serial.pending).toBe(0)
    // Idle again: back to running synchronously.
    serial.push(() => void order.push('now'))
    expect(order.at(-1)).toBe('now')
  })

  it('runs later jobs after a job fails, and reports the failure only to its own caller', async () => {
    const serial = new Serial()
    const failing = deferred<void>()
    const first = serial.run(() => failing.promise)
    const second = serial.run(() => 'ok')
    failing.reject(new Error('boom'))
    await expect(first).rejects.toThrow('boom')
    await expect(second).resolves.toBe('ok')
    await expect(serial.run(() => {
      throw new Error('sync boom')
    })).rejects.toThrow('sync boom')
  })

  it('does not swallow what a pushed job throws: at once to the caller, later as an uncaught error', async () => {
    const serial = new Serial()
    expect(() =>
      serial.push(() => {
        throw new Error('sync boom')
      }),
    ).toThrow('sync boom')
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve))
    serial.push(() => Promise.reject(new Error('async boom')))
    const seen: number[] = []
    await serial.run(() => void seen.push(1)) // the queue goes on
    expect(seen).toEqual([1])
    expect(await uncaught).toMatchObject({ message: 'async boom' })
  })
})
