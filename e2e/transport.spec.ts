import { chromium, expect, test, type Page } from '@playwright/test'
import WebSocket from 'ws'
import { FLAGS, FrameCodec, Identity, SignalingClient, WebRtcTransport, protocolId, type Link } from '../src/index.js'
import { loopbackOnlyWrtc } from '../src/testing/node-webrtc.js'
import { SIGNAL_URL, openConsumer, uniqueSubnet } from './env.js'

// Transport stories: pages (and a Node peer) find each other through our signaling server and
// exchange 0.7 frames over WebRTC data channels, both ways.

async function dial(from: Page, to: string): Promise<void> {
  await from.getByTestId('dial-target').fill(to)
  await from.getByTestId('dial').click()
  await expect(from.getByTestId('status')).toHaveText('connected')
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('message').fill(text)
  await page.getByTestId('send').click()
}

test('two pages connect through the signaling server and exchange frames both ways', async ({ context }, info) => {
  const subnet = uniqueSubnet(info.title)
  const alice = await context.newPage()
  const bob = await context.newPage()
  const aliceId = await openConsumer(alice, subnet)
  const bobId = await openConsumer(bob, subnet)
  // Bob joined second: the server's welcome listed Alice as a bootstrap peer.
  await expect(bob.getByTestId('bootstrap')).toContainText(aliceId)
  await dial(bob, aliceId)
  await expect(alice.getByTestId('links')).toHaveText('1')
  await say(bob, 'hello from bob')
  await say(alice, 'hello from alice')
  await expect(alice.getByTestId('received')).toContainText(`${bobId}: hello from bob`)
  await expect(bob.getByTestId('received')).toContainText(`${aliceId}: hello from alice`)
})

test('the same across two separate browser instances', async ({ browser }, info) => {
  const subnet = uniqueSubnet(info.title)
  const second = await chromium.launch(info.project.use.launchOptions)
  try {
    const permissions = { permissions: ['camera', 'microphone'] }
    const alice = await (await browser.newContext(permissions)).newPage()
    const bob = await (await second.newContext(permissions)).newPage()
    const aliceId = await openConsumer(alice, subnet)
    const bobId = await openConsumer(bob, subnet)
    await dial(alice, bobId)
    await say(alice, 'across browsers')
    await say(bob, 'and back')
    await expect(bob.getByTestId('received')).toContainText(`${aliceId}: across browsers`)
    await expect(alice.getByTestId('received')).toContainText(`${bobId}: and back`)
  } finally {
    await second.close()
  }
})

test('a Node peer (@roamhq/wrtc) and a browser page connect to each other, and talk over the deflate stream', async ({ page }, info) => {
  const subnet = uniqueSubnet(info.title)
  const pageId = await openConsumer(page, subnet)

  const identity = await Identity.generate()
  const client = await SignalingClient.connect({ url: SIGNAL_URL, identity, net: protocolId(subnet, 'webrtc'), WebSocket: WebSocket as never })
  const transport = new WebRtcTransport({ signaler: client, wrtc: loopbackOnlyWrtc(), iceServers: client.iceServers })
  try {
    expect(client.peers).toContain(pageId)
    const link: Link = await transport.dial(pageId)
    const codec = new FrameCodec()
    const received: string[] = []
    /** Per frame from the page after its handshake: whether it came as a piece of the deflate stream (LEN's top bits). */
    const streamed: boolean[] = []
    let handshook = false
    link.on('message', (bytes) => {
      if (handshook) streamed.push((bytes[0]! & 0xc0) !== 0)
      const frame = codec.decode(bytes)
      if (frame.payload[0] === FLAGS.handshake) {
        codec.setRemoteCompressions(frame.payload[1])
        handshook = true
      } else received.push(`${frame.sender}: ${String(frame.payload[1])}`)
    })
    const time = Math.floor(Date.now() / 1000)
    await link.send(codec.encode({ type: FLAGS.whisper, sender: identity.id, time, payload: [FLAGS.handshake, [...codec.local]] }))
    await link.send(codec.encode({ type: FLAGS.whisper, sender: identity.id, time, payload: [FLAGS.whisper, 'hello from node'] }))
    await expect(page.getByTestId('received')).toContainText(`${identity.id}: hello from node`)
    await say(page, 'hello from the page')
    await expect.poll(() => received).toContain(`${pageId}: hello from the page`)
    // Both ends listed the deflate stream (0x14): the page (pako in Chromium) sends its frames as
    // pieces of it, and reads ours.
    expect(codec.sendMethod).toBe(0x14)
    expect(streamed.length).toBeGreaterThan(0)
    expect(streamed.every(Boolean)).toBe(true)
    for (const text of ['streamed from node', 'and again, against the first']) {
      const frame = codec.encode({ type: FLAGS.whisper, sender: identity.id, time, payload: [FLAGS.whisper, text] })
      expect(frame[0]! & 0x80).toBe(0x80)
      await link.send(frame)
      await expect(page.getByTestId('received')).toContainText(`${identity.id}: ${text}`)
    }
  } finally {
    await transport.close()
    await client.close()
  }
})
