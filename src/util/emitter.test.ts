import { describe, expect, it } from 'vitest'
import { Emitter } from './emitter.js'

type Events = { message: [n: number]; close: [reason: string | undefined] }

describe('Emitter', () => {
  it('on() returns its unsubscribe; a throwing listener is reported and does not stop the others', () => {
    const errors: unknown[] = []
    const events = new Emitter<Events>((err) => errors.push(err))
    const got: number[] = []
    events.on('message', () => {
      throw new Error('boom')
    })
    const off = events.on('message', (n) => got.push(n))
    events.emit('message', 1)
    off()
    events.emit('message', 2)
    expect(got).toEqual([1])
    expect(errors).toHaveLength(2)
  })

  it('emitLast fires once more, then nothing fires', () => {
    const events = new Emitter<Events>()
    const seen: string[] = []
    events.on('message', (n) => seen.push(`message ${n}`))
    events.on('close', (reason) => seen.push(`close ${reason}`))
    events.emitLast('close', 'done')
    events.emit('message', 1)
    events.emit('close', 'again')
    expect(seen).toEqual(['close done'])
    expect(events.listenerCount('message')).toBe(0)
  })
})
