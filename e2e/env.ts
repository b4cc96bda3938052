import type { Page } from '@playwright/test'

/** Where playwright.config.ts started our servers. */
export const SIGNAL_URL = process.env.P2P_SIGNAL_URL ?? 'http://127.0.0.1:9000'
export const CONSUMER_URL = process.env.P2P_CONSUMER_URL ?? 'http://127.0.0.1:4173'

/** A fresh subnet name per test, so tests never discover each other's peers. */
export function uniqueSubnet(title: string): string {
  return `${title.replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2, 8)}`
}

/** Opens the consumer fixture on `subnet` and waits until it is registered. Returns its node id. */
export async function openConsumer(page: Page, subnet: string): Promise<string> {
  await page.goto(`${CONSUMER_URL}/?signal=${encodeURIComponent(SIGNAL_URL)}&subnet=${encodeURIComponent(subnet)}`)
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor()
  return (await page.getByTestId('my-id').textContent()) ?? ''
}
