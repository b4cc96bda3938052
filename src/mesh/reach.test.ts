import { describe, expect, it } from 'vitest'
import { FakeClock } from '../testing/fake-clock.js'
import { Prng } from '../testing/prng.js'
import type { MeshPort, ProtocolMessage } from './protocol.js'
import { pickUnlinked, REACH_CLAIMS, REACH_FLAGS, REACH_RESERVED_CONNECTIONS, REACH_SKIP_CHECKS, ReachCheck, type ReachMessage } from './reach.js'

// The reach check's rules on a fake port and clock; its effect on a mesh is in reach.sim.test.ts.

// Node ids as the probe's decoder wants them (base58).
const ME = 'Me1111'
const N1 = 'Nb1111'
const FAR = 'Far111'
const OTHER = 'Other1'
const LIMITS = { reachCheckMs: 1_000, reachTimeoutMs: 300 }

function harness(options: { sample?: string[]; peers?: string[]; connectionsLeft?: number; bridge?: (id: string) => Promise<void> } = {}) {
  const clock = new FakeClock()
  const rng = new Prng(7)
  const probes: { target: string; nonce: number }[] = []
  const pongs: { to: string; nonce: unknown }[] = []
  const bridged: string[] = []
  const state = { peers: options.peers ?? [N1], sample: options.sample ?? [N1, FAR], connectionsLeft: options.connectionsLeft ?? 100 }
  const port = {
    id: ME,
    get peers() {
      return state.peers
    },
    broadcast: (sub: number, target: string, nonce: number) => {
      expect(sub).toBe(REACH_FLAGS.probe)
      probes.push({ target, nonce })
      return Promise.resolve()
    },
    routed: (to: string, sub: number, nonce: unknown) => {
      expect(sub).toBe(REACH_FLAGS.pong)
      pongs.push({ to, nonce })
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
  /** Runs until this node's next probe is out (at most one interval and a half); fails if none. */
  const nextProbe = async (): Promise<{ target: string; nonce: number }> => {
    const before = probes.length
    for (let t = 0; t < 1_500 && probes.length === before; t += 10) await clock.advanceAsync(10)
    expect(probes.length).toBe(before + 1)
    return probes.at(-1)!
  }
  const deliver = (origin: string, value: ReachMessage): void => reach.onMessage({ value, origin } as ProtocolMessage<ReachMessage>)
  return { clock, reach, probes, pongs, bridged, state, nextProbe, deliver }
}

describe('reach check', () => {
  it('decodes a probe (node id, nonce) and a pong (nonce), nothing else', () => {
    const [probe, pong] = REACH_CLAIMS.map((c) => c.decode!)
    expect(probe!([FAR, 7])).toEqual({ target: FAR, nonce: 7 })
    expect(pong!([7])).toEqual({ nonce: 7 })
    for (const bad of [[], [FAR], [FAR, '7'], [FAR, 7, 8], [FAR, -1], [FAR, 1.5], [FAR, 2 ** 53], ['0OIl', 7], [new Uint8Array(4), 7]]) expect(() => probe!(bad)).toThrow()
    for (const bad of [[], ['7'], [7, 8], [-1], [1.5], [2 ** 53], [null]]) expect(() => pong!(bad)).toThrow()
    expect(REACH_CLAIMS.map((c) => [c.route, c.sub])).toEqual([
      ['broadcast', 0x03],
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

  it('a probe for this node is answered with a pong of its nonce, routed to its origin; one for another node is not', () => {
    const h = harness({ sample: [] })
    h.deliver(OTHER, { target: ME, nonce: 99 })
    h.deliver(OTHER, { target: FAR, nonce: 98 })
    expect(h.pongs).toEqual([{ to: OTHER, nonce: 99 }])
  })

  it('a node that answers is left alone; one that does not is linked to, through the bridge', async () => {
    const h = harness()
    const first = await h.nextProbe()
    expect(first.target).toBe(FAR) // N1 is a neighbour
    h.deliver(FAR, { nonce: first.nonce })
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual([])
    await h.nextProbe()
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual([FAR])
    expect(h.reach.stats).toEqual({ reachChecks: 2, bridges: 1 })
  })

  it('a pong from another node, or with another nonce, does not count', async () => {
    const h = harness()
    const probe = await h.nextProbe()
    h.deliver(N1, { nonce: probe.nonce })
    h.deliver(FAR, { nonce: probe.nonce + 1 })
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual([FAR])
  })

  it("another node's probe makes this node skip its next turn (about one probe per period in a part)", async () => {
    const h = harness()
    await h.nextProbe()
    h.deliver(FAR, { nonce: 0 }) // not what this node waits for: no effect
    const afterFirst = h.probes.length
    // Someone else probes before every turn: this node never does.
    for (let turn = 0; turn < 10; turn++) {
      h.deliver(OTHER, { target: FAR, nonce: turn })
      await h.clock.advanceAsync(LIMITS.reachCheckMs / 2)
    }
    expect(h.probes.length).toBe(afterFirst)
    // Quiet again: it probes within a turn or two.
    await h.clock.advanceAsync(2 * LIMITS.reachCheckMs)
    await h.nextProbe()
  })

  it('no link when the node became a neighbour meanwhile, or the connection budget is nearly spent', async () => {
    const h = harness()
    await h.nextProbe()
    h.state.peers = [N1, FAR]
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    h.state.peers = [N1]
    h.state.connectionsLeft = REACH_RESERVED_CONNECTIONS
    await h.nextProbe()
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual([])
    expect(h.reach.stats.reachChecks).toBe(2)
  })

  it('a node that could not be linked is skipped for 5 turns, then tried again', async () => {
    const h = harness({ bridge: () => Promise.reject(new Error('refused')) })
    await h.nextProbe()
    await h.clock.advanceAsync(LIMITS.reachTimeoutMs)
    expect(h.bridged).toEqual([FAR])
    const until = h.clock.now() + REACH_SKIP_CHECKS * LIMITS.reachCheckMs
    // Nobody else to probe until the skip ends.
    while (h.clock.now() < until) {
      await h.clock.advanceAsync(100)
      if (h.clock.now() < until) expect(h.probes.length).toBe(1)
    }
    expect((await h.nextProbe()).target).toBe(FAR)
  })

  it('without peers or after stop(), nothing is sent', async () => {
    const h = harness({ peers: [] })
    await h.clock.advanceAsync(5 * LIMITS.reachCheckMs)
    expect(h.probes).toEqual([])
    h.state.peers = [N1]
    h.reach.stop()
    await h.clock.advanceAsync(5 * LIMITS.reachCheckMs)
    h.deliver(OTHER, { target: ME, nonce: 1 })
    expect(h.probes).toEqual([])
    expect(h.pongs).toEqual([])
  })
})
