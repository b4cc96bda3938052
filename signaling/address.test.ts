import { describe, expect, it } from 'vitest'
import { addressKey } from './address.js'

describe('addressKey', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7')
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(addressKey(undefined)).toBe('unknown')
  })

  it('keys IPv6 by /64 prefix, whatever the spelling', () => {
    const key = addressKey('2001:db8:0:1:aaaa::1')
    expect(key).toBe('2001:db8:0:1::/64')
    expect(addressKey('2001:db8::1:bbbb:0:0:2')).toBe(key)
    expect(addressKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe(key)
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
    expect(addressKey('2001:db8:0:2::1')).not.toBe(key)
  })
})
