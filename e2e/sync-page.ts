import { expect, type BrowserContext, type Locator, type Page } from '@playwright/test'
import { SIGNAL_URL } from './env.js'

// Driving the demo's shared-table panel (demo/sync-panel.ts) from a spec: through its
// data-testids, and for bulk data through `window.syncDemo` (the page's SyncSocket, public API).

export type SyncNode = { page: Page; id: string }

/** WebRTC set-up and a busy machine (8 pages on 2 cores) take a while. */
export const slow = { timeout: 45_000 }

/** Opens the demo on the sync subnet `subnet` (not joined yet); `params`: more of the demo's URL parameters (demo/config.ts). */
export async function open(context: BrowserContext, subnet: string, params: Record<string, string> = {}): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (err) => console.error(`[page] ${err.message}`))
  await page.goto(`/?${new URLSearchParams({ ...params, signal: SIGNAL_URL, sync: subnet }).toString()}`)
  await expect(page.getByTestId('sync-subnet')).toHaveValue(subnet)
  await expect(page.getByTestId('sync-state')).toHaveText('not joined')
  return page
}

/** Clicks Join on the panel and waits until the socket is ready; returns the node id shown. */
export async function join(page: Page): Promise<SyncNode> {
  await page.getByTestId('sync-join').click()
  await expect(page.getByTestId('sync-state')).toHaveText('ready', slow)
  const id = (await page.getByTestId('sync-id').textContent()) ?? ''
  expect(id).toMatch(/^[1-9A-HJ-NP-Za-km-z]{60,66}$/)
  return { page, id }
}

/** `n` joined pages, alternating between the contexts, each joined once the one before is ready (so the mesh is connected). */
export async function network(contexts: BrowserContext[], subnet: string, n: number): Promise<SyncNode[]> {
  const nodes: SyncNode[] = []
  for (let i = 0; i < n; i++) nodes.push(await join(await open(contexts[i % contexts.length]!, subnet)))
  return nodes
}

export const row = (node: SyncNode, key: string): Locator => node.page.locator(`[data-testid="sync-row"][data-key="${key}"]`)
export const cell = (node: SyncNode, key: string, what: 'value' | 'owner' | 'lease'): Locator => row(node, key).getByTestId(`sync-row-${what}`)
export const result = (node: SyncNode): Locator => node.page.getByTestId('sync-result')

/** Sets `key` from the panel's inputs. Returns at once: read the status line for the outcome. */
export async function set(node: SyncNode, key: string, value: string): Promise<void> {
  await node.page.getByTestId('sync-key').fill(key)
  await node.page.getByTestId('sync-value').fill(value)
  await node.page.getByTestId('sync-set').click()
}

/** Sets `key` and waits until the page says it went through. */
export async function setOk(node: SyncNode, key: string, value: string): Promise<void> {
  await set(node, key, value)
  await expect(result(node)).toHaveText(`set ${JSON.stringify(key)}: ok`)
}

/** The owner cell as `viewer` should show it: "me" on the owner's page, else the owner's short id. */
export function ownerText(viewer: SyncNode, owner: SyncNode): string {
  return viewer === owner ? 'me' : owner.id.slice(0, 8)
}

/** Waits until `key` shows `value`, owned by `owner`, on every page of `nodes` (each page within `wait`). */
export async function everywhere(nodes: SyncNode[], key: string, value: string, owner: SyncNode, wait = slow): Promise<void> {
  for (const n of nodes) {
    await expect(cell(n, key, 'value')).toHaveText(value, wait)
    await expect(cell(n, key, 'owner')).toHaveText(ownerText(n, owner))
  }
}

/** The status line of a write refused for `owner`'s lease (a 1-hour lease plus the 3-minute drift margin: 62 or 63 minutes left). */
export function leaseHeldBy(owner: SyncNode): RegExp {
  return new RegExp(`^LEASE_HELD: held by ${owner.id.slice(0, 8)}…, 6[23] min left$`)
}

/** The page's table as a SHA-256 of its sorted entries, and its size (computed in the page). */
export async function digest(node: SyncNode): Promise<{ size: number; sha256: string }> {
  return node.page.evaluate(async () => {
    const socket = window.syncDemo!.socket!
    const text = [...socket.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n')
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
    return { size: socket.size, sha256: [...hash].map((b) => b.toString(16).padStart(2, '0')).join('') }
  })
}
