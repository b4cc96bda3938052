import { describe, expect, it } from 'vitest'
import { TransportError } from '../errors.js'
import { SendQueue } from './send-queue.js'

function queue(highWaterMark: number, onAdmit?: (q: SendQueue<string>, item: string, size: number) => void) {
  const admitted: string[] = []
  const q: SendQueue<string> = new SendQueue<string>({
    linkId: 'l1',
    highWaterMark,
    maxMessageBytes: 100,
    admit: (item, size, urgent) => {
      admitted.push(urgent ? `${item}!` : item)
      onAdmit?.(q, item, size)
    },
  })
  return { q, admitted }
}

const settled = (p: Promise<void>): Promise<string> =>
  Promise.race([p.then(() => 'resolved', (err: unknown) => (err instanceof TransportError ? err.code : 'other')), Promise.resolve().then(() => 'pending')])

describe('SendQueue', () => {
  it('accepts while the budget holds, then queues senders in order until sent() makes room', async () => {
    const { q, admitted } = queue(10)
    const a = q.offer('a', 6, false)
    const b = q.offer('b', 6, false)
    const c = q.offer('c', 1, false) // fits, but waits behind b
    expect([await settled(a), await settled(b), await settled(c)]).toEqual(['resolved', 'pending', 'pending'])
    expect(admitted).toEqual(['a'])
    expect(q.bufferedAmount).toBe(6)
    q.sent(6)
    expect(admitted).toEqual(['a', 'b', 'c'])
    expect([await settled(b), await settled(c)]).toEqual(['resolved', 'resolved'])
    expect(q.bufferedAmount).toBe(7)
    q.sent(100)
    expect(q.bufferedAmount).toBe(0)
    expect(q.idle).toBe(true)
  })

  it('takes a message larger than the mark alone into an empty buffer; urgent ones never wait', async () => {
    const { q, admitted } = queue(10)
    await q.offer('big', 50, false)
    const next = q.offer('next', 1, false)
    await q.offer('ping', 1, true)
    expect(admitted).toEqual(['big', 'ping!'])
    expect(await settled(next)).toBe('pending')
    expect(q.idle).toBe(false)
  })

  it('admit may report bytes sent at once (a carrier that drops them)', async () => {
    const { q, admitted } = queue(10, (self, _item, size) => self.sent(size))
    const sends = ['a', 'b', 'c'].map((item) => q.offer(item, 8, false))
    expect(await Promise.all(sends.map(settled))).toEqual(['resolved', 'resolved', 'resolved'])
    expect(admitted).toEqual(['a', 'b', 'c'])
    expect(q.bufferedAmount).toBe(0)
  })

  it('close refuses waiting senders with LINK_CLOSED and its cause; discard forgets the buffered bytes', async () => {
    const { q } = queue(1)
    await q.offer('a', 5, false)
    const waiting = q.offer('b', 5, false)
    const cause = new TransportError('LINK_FAILED', 'gone')
    q.close(cause, false)
    await expect(waiting).rejects.toMatchObject({ code: 'LINK_CLOSED', cause })
    expect(q.bufferedAmount).toBe(5)
    q.close(undefined, true)
    expect(q.bufferedAmount).toBe(0)
  })

  it('refuses what send() must refuse at once, by code', () => {
    const { q } = queue(10)
    expect(q.refusal('text', false)?.code).toBe('INVALID_MESSAGE')
    expect(q.refusal(new Uint8Array(1), true)?.code).toBe('LINK_CLOSED')
    expect(q.refusal(new Uint8Array(101), false)?.code).toBe('MESSAGE_TOO_LARGE')
    expect(q.refusal(new Uint8Array(100), false)).toBeUndefined()
  })
})
