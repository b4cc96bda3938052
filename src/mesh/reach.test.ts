import { describe, expect, it } from 'vitest'
import { FakeClock } from '../testing/fake-clock.js'
import { Prng } from '../testing/prng.js'
import type { MeshPort, ProtocolMessage } from './protocol.js'
import { pickUnlinked, REACH_CLAIMS, REACH_FLAGS, REACH_RESERVED_CONNECTIONS, REACH_SKIP_CHECKS, ReachCheck } from './reach.js'

// The reach check's rules on a fake port and clock; its effect on a mesh is in reach.sim.test.ts.

const ME = 'me'
const LIMITS = { reachCheckMs: 1_000, reachTimeoutMs: 300 }

function harness(options: { sample?: string[]; peers?: string[]; connectionsLeft?: number; bridge?: (id: string) => Promise<void> } = {}) {
  const clock = new FakeClock()
  const rng = new Prng(7)
  const sent: { to: string; sub: number; nonce: unknown }[] = []
  const bridged: string[] = []
  const state = { peers: options.peers ?? ['n1'], sample: options.sample ?? ['n1', 'far'], connectionsLeft: options.connectionsLeft ?? 100 }
  const port = {
    id: ME,
    get peers() {
      return state.peers
    },
    routed: (to: string, sub: number, nonce: unknown) => {
      sent.push({ to, sub, nonce })
      return Promise.resolve()
    },
  } as unknown as MeshPort
  const reach = new ReachCheck(LIMITS)
  reach.start(port, {
    clock,
    random: () => rng.next(),
    discover: () => Promise.resolve(state.sample),
    bridge: (id) => {
      bridged.push(id)
      return options.bridge?.(id) ?? Promise.resolve()
    },
    connectionsLeft: () => state.connectionsLeft,
  })
  /** Runs until the next ping is out (at most one interval and a half). */
  const nextPing = async (): Promise<{ to: string; nonce: number }> => {
    const before = sent.length
    for (let t = 0; t < 1_500 && sent.length === before; t += 10) await clock.advanceAsync(10)
    const ping = sent.at(-1)!
    expect(sent.length).toBe(before + 1)
    expect(ping.sub).toBe(REACH_FLAGS.ping)
    return { to: ping.to, nonce: ping.nonce as number }
  }
  const pong = (origin: string, nonce: unknown): void => reach.onMessage({ sub: REACH_FLAGS.pong, value: nonce, origin } as ProtocolMessage<number>)
  return { clock, reach, sent, bridged, state, nextPing, pong }
}

describe('reach check', () => {
  it('decodes exactly one non-negative safe integer', () => {
    const decode = REACH_CLAIMS[0]!.decode!
    expect(decode([7])).toBe(7)
    for (const bad of [[], ['7'], [7, 8], [-1], [1.5], [2 ** 53], [null], [new Uint8Array(4)]]) expect(() => decode(bad)).toThrow()
    expect(REACH_CLAIMS.map((c) => [c.route, c.sub])).toEqual([
      ['routed', 0x03],
      ['routed', 0x04],
    ])
  })

  it('picks only nodes that are not this one, not neighbours and not skipped', () => {
    const rng = new Prng(1)
    const picks = new Set<string | undefined>()
    for (let i = 0; i < 200; i++) picks.add(pickUnlinked([ME, 'a', 'b', 'c', 'd', 'd'], ME, new Set(['a']), (id) => id === 'c', () => rng.next()))
    expect([...picks].sort()).toEqual(['b', 'd'])
    expect(pickUnlinked([ME, 'a'], ME, new Set(['a']), () => false, Math.random)).toBeUndefined()
  })

  it('answers a ping with a pong of the same nonce, routed to its origin', () => {
    const h = harness({ sample: [] })
    h.reach.onMessage({ sub: REACH_FLAGS.ping, value: 99, origin: 'asker' } as ProtocolMessage<number>)
    expect(h.sent).toEqual([{ to: 'asker', sub: REACH_FLAGS.pong, nonce: 99 }])
  })

  it('a node that answers is left alone; one that does not is linked to, through the bridge', async () => {
    const h = harness()
    const first = await h.nextPing()
    expect(first.to).toBe('far') // n1 is a neighbour
    h.pong('far', first.nonce)
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual([])
    await h.nextPing()
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual(['far'])
    expect(h.reach.stats).toEqual({ reachChecks: 2, bridges: 1 })
  })

  it('a pong from another node, or with another nonce, does not count', async () => {
    const h = harness()
    const ping = await h.nextPing()
    h.pong('n1', ping.nonce)
    h.pong('far', ping.nonce + 1)
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual(['far'])
  })

  it('no link when the node became a neighbour meanwhile, or the connection budget is nearly spent', async () => {
    const h = harness()
    await h.nextPing()
    h.state.peers = ['n1', 'far']
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    h.state.peers = ['n1']
    h.state.connectionsLeft = REACH_RESERVED_CONNECTIONS
    await h.nextPing()
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual([])
    expect(h.reach.stats.reachChecks).toBe(2)
  })

  it('a node that could not be linked is skipped for 5 checks, then tried again', async () => {
    const h = harness({ sample: ['n1', 'far'], bridge: () => Promise.reject(new Error('refused')) })
    await h.nextPing()
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual(['far'])
    const failedAt = h.clock.now()
    // Nobody else to check until the skip ends.
    while (h.clock.now() < failedAt + REACH_SKIP_CHECKS * LIMITS.reachCheckMs) {
      await h.clock.advanceAsync(100)
      if (h.clock.now() < failedAt + REACH_SKIP_CHECKS * LIMITS.reachCheckMs) expect(h.sent.length).toBe(1)
    }
    expect((await h.nextPing()).to).toBe('far')
  })

  it('without peers or after stop(), nothing is sent', async () => {
    const h = harness({ peers: [] })
    await h.clock.advanceAsync(5 * LIMITS.reachCheckMs)
    expect(h.sent).toEqual([])
    h.state.peers = ['n1']
    h.reach.stop()
    await h.clock.advanceAsync(5 * LIMITS.reachCheckMs)
    h.reach.onMessage({ sub: REACH_FLAGS.ping, value: 1, origin: 'asker' } as ProtocolMessage<number>)
    expect(h.sent).toEqual([])
  })
})
