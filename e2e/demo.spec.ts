import { expect, test, type Page } from '@playwright/test'
import { SIGNAL_URL, uniqueSubnet } from './env.js'

// The demo's mesh panels, as two people would use them: open the page from a link that names
// the signaling server and subnet, join, chat both ways, watch the graph and the counters, leave.

// WebRTC set-up takes a moment even on loopback.
const slow = { timeout: 20_000 }

async function open(page: Page, subnet: string): Promise<void> {
  await page.goto(`/?signal=${encodeURIComponent(SIGNAL_URL)}&subnet=${encodeURIComponent(subnet)}`)
  await expect(page.getByTestId('mesh-signaling')).toHaveValue(SIGNAL_URL)
  await expect(page.getByTestId('mesh-subnet')).toHaveValue(subnet)
  await expect(page.getByTestId('mesh-status')).toHaveText('not joined')
}

/** Clicks Join, waits for 'ready', returns the node id the page shows. */
async function join(page: Page): Promise<string> {
  await page.getByTestId('mesh-join').click()
  await expect(page.getByTestId('mesh-status')).toHaveText('ready', slow)
  const id = (await page.getByTestId('mesh-id').textContent()) ?? ''
  expect(id).toMatch(/^[1-9A-HJ-NP-Za-km-z]{60,66}$/)
  return id
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text)
  await page.getByTestId('chat-send').click()
  await expect(page.getByTestId('chat-input')).toHaveValue('')
}

/** The chat line carrying `text`, checked to come from `sender`. */
async function expectLine(page: Page, sender: string, text: string, own: boolean): Promise<void> {
  const line = page.getByTestId('chat-line').filter({ hasText: text })
  await expect(line).toHaveCount(1, slow)
  await expect(line).toHaveAttribute('data-sender', sender)
  await expect(line).toContainText(own ? `${sender.slice(0, 8)} (me)` : sender.slice(0, 8))
}

/** Waits until the counter reads a whole number at least `min`. */
async function expectCounterAtLeast(page: Page, testId: string, min: number): Promise<void> {
  await expect.poll(async () => Number(await page.getByTestId(testId).textContent()), slow).toBeGreaterThanOrEqual(min)
}

async function expectGraph(page: Page, self: string, neighbour: string): Promise<void> {
  const graph = page.getByTestId('graph')
  await expect(graph.getByTestId('graph-node')).toHaveCount(2, slow)
  await expect(graph.getByTestId('graph-edge')).toHaveCount(1)
  await expect(graph.locator('[data-testid="graph-node"][data-kind="self"]')).toHaveAttribute('data-id', self)
  await expect(graph.locator('[data-testid="graph-node"][data-kind="neighbour"]')).toHaveAttribute('data-id', neighbour)
  await expect(page.getByTestId('graph-summary')).toHaveText('2 nodes, 1 link')
}

test('two pages join a mesh from the demo, chat both ways, and see each other in the graph', async ({ context }, info) => {
  const subnet = uniqueSubnet(info.title)
  const a = await context.newPage()
  const b = await context.newPage()
  await open(a, subnet)
  await open(b, subnet)

  // A mistyped server URL is reported by its error code, and the page stays usable.
  await a.getByTestId('mesh-signaling').fill('not a url')
  await a.getByTestId('mesh-join').click()
  await expect(a.getByTestId('mesh-status')).toHaveText('error: SIGNALING_UNREACHABLE')
  await expect(a.getByTestId('mesh-join')).toBeEnabled()
  await a.getByTestId('mesh-signaling').fill(SIGNAL_URL)

  // A joins first and is alone; B finds A through the signaling server.
  const aId = await join(a)
  await expect(a.getByTestId('graph-summary')).toHaveText('1 node, 0 links')
  const bId = await join(b)
  expect(bId).not.toBe(aId)
  await expect(a.getByTestId('stat-peers')).toHaveText('1', slow)
  await expect(b.getByTestId('stat-peers')).toHaveText('1', slow)

  // Chat, both ways; each page shows its own lines too.
  await say(a, 'hello from A')
  await expectLine(b, aId, 'hello from A', false)
  await expectLine(a, aId, 'hello from A', true)
  await say(b, 'hi A, B here')
  await expectLine(a, bId, 'hi A, B here', false)
  await expectLine(b, bId, 'hi A, B here', true)
  // Topology announcements travel the same links but are consumed, never shown as chat.
  for (const page of [a, b]) {
    await expect(page.getByTestId('chat-line')).toHaveCount(2)
    await expect(page.getByTestId('chat-log')).not.toContainText('demo:topology')
  }

  // Each page's graph: itself and its one neighbour, joined by one link.
  await expectGraph(a, aId, bId)
  await expectGraph(b, bId, aId)

  // Counters (refreshed every second).
  for (const page of [a, b]) {
    await expectCounterAtLeast(page, 'stat-messages-in', 1)
    await expectCounterAtLeast(page, 'stat-messages-out', 1)
    await expectCounterAtLeast(page, 'stat-bytes-in', 1)
    await expectCounterAtLeast(page, 'stat-bytes-out', 1)
    await expectCounterAtLeast(page, 'stat-delivered', 1)
    await expect(page.getByTestId('stat-duplicates')).toHaveText('0')
    await expect(page.getByTestId('stat-bad-frames')).toHaveText('0')
    await expect(page.getByTestId('stat-forged')).toHaveText('0')
    await expect(page.getByTestId('stat-rate-limited')).toHaveText('0')
    await expect(page.getByTestId('stat-bridges')).toHaveText('0') // two pages in one mesh: nothing to join
    await expect(page.getByTestId('stat-reach-checks')).toHaveText(/^\d+$/)
    await expect(page.getByTestId('stat-compression')).toHaveText(/^\d+\.\d\d$/)
  }

  await a.screenshot({ path: 'e2e/.output/demo-a.png', fullPage: true })
  await b.screenshot({ path: 'e2e/.output/demo-b.png', fullPage: true })

  // B leaves: A sees its peer go, and its graph shrinks back to itself.
  await b.getByTestId('mesh-leave').click()
  await expect(b.getByTestId('mesh-status')).toHaveText('left')
  await expect(b.getByTestId('mesh-join')).toBeEnabled()
  await expect(a.getByTestId('stat-peers')).toHaveText('0', slow)
  await expect(a.getByTestId('graph').getByTestId('graph-node')).toHaveCount(1)
  await expect(a.getByTestId('graph').getByTestId('graph-edge')).toHaveCount(0)
  await expect(a.getByTestId('mesh-status')).toHaveText('ready')
})
