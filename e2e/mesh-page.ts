import { expect, type Page } from '@playwright/test'
import type { MeshStats } from '../src/index.js'
import { CONSUMER_URL, SIGNAL_URL } from './env.js'

// Driving the mesh harness page (e2e/consumer-app/mesh.ts: one MeshSocket per page, built
// against dist/) from a spec: everything goes through the page's data-testids.

export type Node = { page: Page; id: string }

/** Opens the harness on `subnet` (extra URL parameters: out, dialTimeout, rate, grace) and waits until it is ready. */
export async function join(page: Page, subnet: string, extra: Record<string, string> = {}, signal = SIGNAL_URL): Promise<Node> {
  const q = new URLSearchParams({ app: 'mesh', signal, subnet, ...extra })
  await page.goto(`${CONSUMER_URL}/?${q.toString()}`)
  return ready(page)
}

/** Waits until the harness on `page` is ready (after a join or a reload) and reads its node id. */
export async function ready(page: Page): Promise<Node> {
  await expect(page.getByTestId('status')).toHaveText('ready', { timeout: 45_000 })
  return { page, id: (await page.getByTestId('my-id').textContent()) ?? '' }
}

export async function peersOf(node: Node): Promise<string[]> {
  return ((await node.page.getByTestId('peers').textContent()) ?? '').split(' ').filter(Boolean)
}

/** Waits until the nodes form one connected network (as their own peer lists say). */
export async function connected(nodes: Node[]): Promise<void> {
  await expect
    .poll(
      async () => {
        const lists = new Map(await Promise.all(nodes.map(async (n) => [n.id, await peersOf(n)] as const)))
        const seen = new Set([nodes[0]!.id])
        const stack = [nodes[0]!.id]
        while (stack.length > 0) {
          for (const p of lists.get(stack.pop()!) ?? []) {
            if (!lists.has(p) || seen.has(p)) continue
            seen.add(p)
            stack.push(p)
          }
        }
        return seen.size
      },
      { timeout: 60_000 },
    )
    .toBe(nodes.length)
}

export async function act(node: Node, action: 'broadcast' | 'whisper' | 'connect', text: string, target = ''): Promise<void> {
  await node.page.getByTestId('text').fill(text)
  await node.page.getByTestId('target').fill(target)
  await node.page.getByTestId(action).click()
}

export const received = (node: Node, text: string) => node.page.getByTestId('received').locator('li', { hasText: text })

/** Every 'error' the page's MeshSocket emitted, in order: "CODE" or "CODE/CAUSE", and the peer it names. */
export async function errorsOf(node: Node): Promise<{ code: string; peer: string }[]> {
  return node.page
    .getByTestId('errors')
    .locator('li')
    .evaluateAll((items) => items.map((li) => ({ code: li.textContent ?? '', peer: (li as HTMLElement).dataset.peer ?? '' })))
}

/** The page's `mesh.stats`, read now. */
export async function statsOf(node: Node): Promise<MeshStats> {
  await node.page.getByTestId('show-stats').click()
  return JSON.parse((await node.page.getByTestId('stats').textContent()) ?? '{}') as MeshStats
}
