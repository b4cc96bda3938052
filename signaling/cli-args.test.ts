import { describe, expect, it } from 'vitest'
import { parseCliArgs } from './cli-args.js'

describe('parseCliArgs', () => {
  it('maps flags to options', () => {
    expect(parseCliArgs([])).toEqual({ kind: 'start', options: {} })
    expect(
      parseCliArgs(['--port', '9000', '--host', '0.0.0.0', '--ice-servers', '[{"urls":"stun:stun.example.test"}]', '--max-clients-per-ip', '4']),
    ).toEqual({
      kind: 'start',
      options: { port: 9000, host: '0.0.0.0', iceServers: [{ urls: 'stun:stun.example.test' }], maxClientsPerIp: 4 },
    })
    expect(parseCliArgs(['--port=0'])).toEqual({ kind: 'start', options: { port: 0 } })
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' })
  })

  it.each([[['--port', 'abc']], [['--port', '-1']], [['--ice-servers', '[{']], [['--unknown']], [['positional']], [['--port']]])(
    'refuses %j',
    (argv) => {
      expect(() => parseCliArgs(argv)).toThrow()
    },
  )
})
