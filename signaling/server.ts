import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type NextFunction, type Request, type Response } from 'express'
import { ExpressPeerServer } from 'peer'
import type { WebSocket, WebSocketServer } from 'ws'
import { CHALLENGE_PATH, CLOSE_GOING_AWAY, PEERJS_KEY } from '../src/transport/signaling/protocol.js'
import { addressKey } from './address.js'
import { SignalingHub } from './hub.js'
import { resolveOptions, type SignalingServerOptions, type SignalingServerServices } from './options.js'
import { TimerOwner } from './owned-timers.js'
import { gatedWebSocketServer } from './sockets.js'

export type { SignalingServerOptions, SignalingServerServices } from './options.js'

export interface SignalingServer {
  /** What clients pass as their `signaling` URL, e.g. http://127.0.0.1:9000. */
  readonly url: string
  readonly port: number
  /** Registered clients right now. */
  readonly clients: number
  /** Ends every client (close code 1001), stops listening. Idempotent. */
  close(): Promise<void>
}

/** How long close() waits for clients to acknowledge the close before cutting them off. */
const CLOSE_GRACE_MS = 1000

/**
 * Starts the signaling server: the PeerJS server (OPEN/OFFER/ANSWER/CANDIDATE/HEARTBEAT
 * relaying) behind identity-tied registration, per-subnet discovery and hardening limits.
 * Binds 127.0.0.1 unless `host` says otherwise; PeerJS's own /peers discovery stays off.
 */
export async function startSignalingServer(
  options: SignalingServerOptions = {},
  services: SignalingServerServices = {},
): Promise<SignalingServer> {
  const opts = resolveOptions(options)
  const log = services.log ?? (() => {})
  const hub = new SignalingHub(opts, { now: services.now ?? Date.now, random: services.random ?? Math.random, log })
  const timers = new TimerOwner()

  const app = express()
  app.disable('x-powered-by')
  const http = createServer(app)
  http.headersTimeout = 10_000
  http.requestTimeout = 15_000

  app.get(`/${CHALLENGE_PATH}`, (req, res) => {
    const { status, body } = hub.challenge(addressKey(req.socket.remoteAddress))
    res.status(status).set({ 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' }).json(body)
  })

  let wss: WebSocketServer | undefined
  const createGated = gatedWebSocketServer({ hub, maxPayload: opts.maxMessageBytes, log })
  const peer = ExpressPeerServer(http, {
    path: '/',
    key: PEERJS_KEY,
    allow_discovery: false,
    proxied: false,
    concurrent_limit: opts.maxClients,
    alive_timeout: opts.aliveTimeoutMs,
    createWebSocketServer: (peerOptions) => (wss = createGated(peerOptions)),
  })
  peer.on('connection', (client) => {
    // A takeover keeps the id's PeerJS client and with it the last HEARTBEAT of the replaced
    // socket: without this, a session replacing a silent one could be expired before its first
    // HEARTBEAT. PeerJS reads the wall clock (new Date()), so this does too.
    client.setLastPing(Date.now())
    const socket = client.getSocket()
    if (socket !== null) hub.welcome(socket)
  })
  peer.on('disconnect', (client) => {
    // If PeerJS expired it (no HEARTBEAT), it started a close handshake with a peer that is
    // probably gone: free the id now rather than after ws's 30 s close timeout.
    hub.expire(client.getId())
  })
  peer.on('error', (err) => log('peerjs error', err))
  // Mounting starts PeerJS (and its timers, which `timers` records so close() can stop them).
  timers.run(() => app.use(peer))
  app.use((_req: Request, res: Response) => {
    res.status(404).end()
  })
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    log('http error', err)
    if (!res.headersSent) res.status(400).end()
  })
  if (wss === undefined) throw new Error('PeerJS did not create its WebSocket server')
  const sockets = wss

  try {
    await listen(http, opts.port, opts.host)
  } catch (err: unknown) {
    timers.clear()
    sockets.close()
    throw err
  }
  const port = (http.address() as AddressInfo).port
  const url = `http://${urlHost(opts.host)}:${port}`

  let closing: Promise<void> | undefined
  return {
    url,
    port,
    get clients() {
      return hub.size
    },
    close() {
      closing ??= (async () => {
        timers.clear()
        sockets.close()
        await endSockets([...sockets.clients])
        await new Promise<void>((resolve) => {
          http.close(() => resolve())
          http.closeAllConnections()
        })
      })()
      return closing
    },
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening)
      reject(err)
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

/** Closes every socket with 1001 and waits for it, cutting off those that do not answer. */
function endSockets(sockets: WebSocket[]): Promise<void> {
  return Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === socket.CLOSED) return resolve()
          const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS)
          socket.once('close', () => {
            clearTimeout(timer)
            resolve()
          })
          socket.close(CLOSE_GOING_AWAY, 'server closing')
        }),
    ),
  ).then(() => undefined)
}

/** A host for a URL: IPv6 in brackets; a wildcard bind is reachable locally on loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}
