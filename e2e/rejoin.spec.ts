import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { startSignalingServer, type SignalingServer } from '../signaling/server.js'
import { uniqueSubnet } from './env.js'

// The mesh rejoins by itself, as the demo shows it: its signaling server restarts under live
// pages (each shows offline, then online, and keeps its links; a newcomer joins the same mesh),
// then a page loses every neighbour and finds, with no application code, a page that arrives
// afterwards and dials nobody (?out=0: maxOutgoing 0). Nothing else tells the lonely page of the
// newcomer: its neighbours are gone, so only its own rediscovery (asking the signaling server
// for the subnet's nodes once it has nobody left to dial; ?rediscover=500: at most every 500 ms
// rather than 10 s) can link them.

type DemoNode = { page: Page; id: string }

const slow = { timeout: 45_000 }

/** Opens the demo on `subnet` at `signal`, joins, waits until it is ready and online. */
async function join(context: BrowserContext, signal: string, subnet: string, extra: Record<string, string> = {}): Promise<DemoNode> {
  const page = await context.newPage()
  await page.goto(`/?${new URLSearchParams({ signal, subnet, ...extra }).toString()}`)
  await page.getByTestId('mesh-join').click()
  await expect(page.getByTestId('mesh-status')).toHaveText('ready', slow)
  await expect(page.getByTestId('mesh-connection')).toHaveText('online')
  return { page, id: (await page.getByTestId('mesh-id').textContent()) ?? '' }
}

/** The node's direct peers, as its graph shows them, sorted. */
async function neighboursOf(node: DemoNode): Promise<string[]> {
  const ids = await node.page
    .getByTestId('graph')
    .locator('[data-testid="graph-node"][data-kind="neighbour"]')
    .evaluateAll((items) => items.map((n) => n.getAttribute('data-id') ?? ''))
  return ids.sort()
}

/** Waits until every node is linked to every other (4 pages stay under the default maxOutgoing 4). */
async function fullMesh(nodes: DemoNode[]): Promise<void> {
  for (const n of nodes) {
    const others = nodes.filter((o) => o !== n).map((o) => o.id).sort()
    await expect.poll(() => neighboursOf(n), slow).toEqual(others)
  }
}

/** Sends a chat line from `from`; it shows once on every page of `to`, and once as its own line. */
async function broadcastReaches(from: DemoNode, to: DemoNode[], text: string): Promise<void> {
  await from.page.getByTestId('chat-input').fill(text)
  await from.page.getByTestId('chat-send').click()
  for (const n of [from, ...to]) {
    const line = n.page.getByTestId('chat-line').filter({ hasText: text })
    await expect(line).toHaveCount(1, slow)
    await expect(line).toHaveAttribute('data-sender', from.id)
  }
}

test('the mesh rejoins by itself: a signaling server restart under live pages, then a page that lost every neighbour finds a newcomer', async ({ context }, info) => {
  test.setTimeout(240_000)
  const subnet = uniqueSubnet(info.title)
  let server: SignalingServer = await startSignalingServer({ port: 0 })
  const port = server.port
  try {
    const nodes: DemoNode[] = []
    for (let i = 0; i < 3; i++) nodes.push(await join(context, server.url, subnet, { rediscover: '500' }))
    await fullMesh(nodes)
    const before = await Promise.all(nodes.map(neighboursOf))

    // The server goes away: every page says so, and its links stay up.
    await server.close()
    for (const n of nodes) await expect(n.page.getByTestId('mesh-connection')).toHaveText('offline', slow)
    await broadcastReaches(nodes[0]!, nodes.slice(1), 'while the server is down')

    // It comes back on the same port: every page re-registers (same id) by itself.
    server = await startSignalingServer({ port })
    for (const n of nodes) await expect(n.page.getByTestId('mesh-connection')).toHaveText('online', slow)
    expect(await Promise.all(nodes.map(neighboursOf))).toEqual(before)
    for (const n of nodes) await expect(n.page.getByTestId('mesh-status')).toHaveText('ready')

    // A page that arrives after the restart finds the others through the new server.
    nodes.push(await join(context, server.url, subnet))
    await fullMesh(nodes)
    await broadcastReaches(nodes[3]!, nodes.slice(0, 3), 'from the newcomer after the restart')

    // Every neighbour of `lonely` dies abruptly (in a full mesh that is every other page).
    const [lonely, ...others] = nodes as [DemoNode, ...DemoNode[]]
    for (const n of others) await n.page.close({ runBeforeUnload: false })
    await expect.poll(() => neighboursOf(lonely), slow).toEqual([])
    await expect(lonely.page.getByTestId('stat-peers')).toHaveText('0', slow)

    // A page arrives that dials nobody: only `lonely` asking the server again can link them.
    // It asks once the dials to its dead neighbours have failed, and those wait out the default
    // dialTimeoutMs (20 s): the server's UNKNOWN_PEER answer does not end a dial (~20 s here).
    const newcomer = await join(context, server.url, subnet, { out: '0' })
    await expect.poll(() => neighboursOf(lonely), { timeout: 90_000 }).toEqual([newcomer.id])
    await expect.poll(() => neighboursOf(newcomer), slow).toEqual([lonely.id])
    await broadcastReaches(lonely, [newcomer], 'found by rediscovery')
    for (const n of [lonely, newcomer]) await expect(n.page.getByTestId('mesh-connection')).toHaveText('online')
  } finally {
    await server.close()
  }
})
