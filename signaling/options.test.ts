import { describe, expect, it } from 'vitest'
import { DEFAULT_OPTIONS, resolveOptions, type SignalingServerOptions } from './options.js'

describe('resolveOptions', () => {
  it('binds loopback, hands out no ICE servers and disables nothing by default', () => {
    const options = resolveOptions()
    expect(options).toEqual(DEFAULT_OPTIONS)
    expect(options.host).toBe('127.0.0.1')
    expect(options.iceServers).toEqual([])
    expect(options.maxMessageBytes).toBe(64 * 1024)
    expect(options.discoveryLimit).toBe(8)
  })

  it('keeps given values and ignores undefined ones', () => {
    // (JavaScript callers may pass undefined; the type forbids it.)
    const options = { port: 0, maxClients: 3, discoveryLimit: undefined } as unknown as SignalingServerOptions
    expect(resolveOptions(options)).toMatchObject({ port: 0, maxClients: 3, discoveryLimit: 8 })
  })

  it('validates ICE servers', () => {
    const iceServers = [{ urls: 'stun:stun.example.test:3478' }, { urls: ['turn:turn.example.test'], username: 'u', credential: 'c' }]
    expect(resolveOptions({ iceServers }).iceServers).toEqual(iceServers)
    expect(() => resolveOptions({ iceServers: [{ urls: 'http://example.test' }] })).toThrow(TypeError)
    expect(() => resolveOptions({ iceServers: [{ urls: [] }] })).toThrow(TypeError)
    expect(() => resolveOptions({ iceServers: {} as unknown as RTCIceServer[] })).toThrow(TypeError)
  })

  it.each([
    { port: -1 },
    { port: 65_536 },
    { port: 1.5 },
    { host: '' },
    { maxClients: 0 },
    { maxClientsPerIp: -3 },
    { messagesPerSecond: Number.NaN },
    { messageBurst: 1.5 },
    { maxMessageBytes: 100 },
    { aliveTimeoutMs: 10 },
    { nonceTtlMs: Infinity },
  ])('refuses %o', (bad) => {
    expect(() => resolveOptions(bad)).toThrow()
  })
})
