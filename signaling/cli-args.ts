import { parseArgs } from 'node:util'
import { parseJson } from '../src/transport/signaling/messages.js'
import type { SignalingServerOptions } from './options.js'

/** Command-line flags → server options. Pure: the CLI and its tests share it. */
export const USAGE = `usage: signal [--port 9000] [--host 127.0.0.1] [--ice-servers '<json RTCIceServer[]>']
              [--max-clients N] [--max-clients-per-ip N] [--connect-attempts-per-minute N]
              [--messages-per-second N] [--message-burst N] [--max-message-bytes N]
              [--discovery-limit N] [--nonce-ttl-ms N] [--alive-timeout-ms N]
Prints the server URL (what clients pass as their signaling option) on stdout.`

const NUMERIC = {
  port: 'port',
  'max-clients': 'maxClients',
  'max-clients-per-ip': 'maxClientsPerIp',
  'connect-attempts-per-minute': 'connectAttemptsPerMinute',
  'messages-per-second': 'messagesPerSecond',
  'message-burst': 'messageBurst',
  'max-message-bytes': 'maxMessageBytes',
  'discovery-limit': 'discoveryLimit',
  'nonce-ttl-ms': 'nonceTtlMs',
  'alive-timeout-ms': 'aliveTimeoutMs',
} as const satisfies Record<string, keyof SignalingServerOptions>

export type CliCommand = { kind: 'help' } | { kind: 'start'; options: SignalingServerOptions }

/** Throws a TypeError with a message fit for stderr on a bad flag or value. */
export function parseCliArgs(argv: string[]): CliCommand {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      host: { type: 'string' },
      'ice-servers': { type: 'string' },
      ...Object.fromEntries(Object.keys(NUMERIC).map((flag) => [flag, { type: 'string' as const }])),
    },
  })
  if (values.help === true) return { kind: 'help' }
  const options: SignalingServerOptions = {}
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = (values as Record<string, unknown>)[flag]
    if (raw === undefined) continue
    if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new TypeError(`--${flag} takes a non-negative integer, got ${String(raw)}`)
    options[key] = Number(raw)
  }
  if (typeof values.host === 'string') options.host = values.host
  if (typeof values['ice-servers'] === 'string') {
    const parsed = parseJson(values['ice-servers'])
    if (!parsed.ok) throw new TypeError('--ice-servers takes a JSON array of RTCIceServer objects')
    options.iceServers = parsed.value as RTCIceServer[] // resolveOptions validates the shape
  }
  return { kind: 'start', options }
}
