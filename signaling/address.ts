import { isIPv4, isIPv6 } from 'node:net'

/**
 * The key per-address limits count against: the IPv4 address, or the /64 prefix of an IPv6
 * address (one host usually owns a whole /64, so counting single IPv6 addresses would let it
 * take as many slots as it likes). IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress)
  if (mapped !== null) return mapped[1]!
  if (isIPv4(remoteAddress)) return remoteAddress
  if (!isIPv6(remoteAddress)) return remoteAddress
  const groups = expandIPv6(remoteAddress.split('%')[0]!)
  return groups === undefined ? remoteAddress : `${groups.slice(0, 4).join(':')}::/64`
}

function expandIPv6(address: string): string[] | undefined {
  const [head, tail, extra] = address.split('::')
  if (extra !== undefined) return undefined
  const left = head === '' || head === undefined ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  // An embedded IPv4 tail (::1.2.3.4) counts as two groups; only the first four matter here.
  const missing = 8 - left.length - right.length - (right.at(-1)?.includes('.') ? 1 : 0)
  if (tail === undefined && missing !== 0) return undefined
  const groups = [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right]
  return groups.map((g) => (g.includes('.') ? g : (parseInt(g, 16) || 0).toString(16)))
}
