import { expect, test } from '@playwright/test'
import { startSignalingServer } from '../signaling/server.js'
import { freezingProxy } from './freezing-proxy.js'
import { uniqueSubnet } from './env.js'
import { act, join, peersOf, ready, received, type Node } from './mesh-page.js'

// A page that reloads keeps its node id (identity 'persistent', the browser default: IndexedDB,
// one slot per live page). Its old neighbour takes it back, also when the signaling server never
// saw the old page go: the new registration replaces the old session (close code 4301 REPLACED).

/** p and n are each other's peers, and a broadcast from each reaches the other once. */
async function linkedBothWays(p: Node, n: Node, tag: string): Promise<void> {
  await expect.poll(() => peersOf(p), { timeout: 30_000 }).toContain(n.id)
  await expect.poll(() => peersOf(n), { timeout: 30_000 }).toContain(p.id)
  await act(p, 'broadcast', `${tag}-from-p`)
  await expect(received(n, `${tag}-from-p`)).toHaveCount(1)
  await act(n, 'broadcast', `${tag}-from-n`)
  await expect(received(p, `${tag}-from-n`)).toHaveCount(1)
}

test('a page reloads and comes back with the same node id; its old neighbour accepts it back, also over a stale signaling session', async ({ context }, info) => {
  test.setTimeout(120_000)
  const server = await startSignalingServer({ port: 0 })
  const proxy = await freezingProxy(server.port)
  try {
    const subnet = uniqueSubnet(info.title)
    const page = await context.newPage()
    const p = await join(page, subnet, {}, proxy.url) // p reaches the server through the proxy
    const n = await join(await context.newPage(), subnet, {}, server.url)
    expect(n.id, 'two live pages of one origin hold two identity slots').not.toBe(p.id)
    await linkedBothWays(p, n, 'before')

    // A plain reload: the old page's signaling session and links close, the new page loads
    // the same key pair.
    await page.reload()
    expect((await ready(page)).id).toBe(p.id)
    await linkedBothWays(p, n, 'reload-1')

    // A reload the server does not see: the old page's WebSocket is cut off on the way
    // (frozen), so its session is still registered when the new page registers the same id.
    proxy.freeze()
    await page.reload()
    expect((await ready(page)).id).toBe(p.id)
    await expect.poll(() => proxy.serverCloses()).toEqual([{ code: 4301, reason: 'REPLACED' }])
    await linkedBothWays(p, n, 'reload-2')
    // One session per id at the server, and one registration per page load: nothing reconnected.
    expect(server.clients).toBe(2)
    expect(proxy.upgrades).toBe(3)
  } finally {
    await proxy.close()
    await server.close()
  }
})
