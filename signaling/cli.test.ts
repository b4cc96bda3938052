import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The CLI as a user runs it: a real `node` process with the TypeScript hooks. Also checks
 * that a closed server lets its process exit on its own (PeerJS's timers are stopped).
 */
const root = fileURLToPath(new URL('..', import.meta.url))
const hooks = ['--import', 'tsx']

function run(args: string[]): { child: ChildProcess; exited: Promise<number | null>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [...hooks, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, exited, stdout: () => out, stderr: () => err }
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const newline = buffered.indexOf('\n')
      if (newline >= 0) resolve(buffered.slice(0, newline))
    })
    child.once('exit', (code) => reject(new Error(`exited with ${String(code)} before printing a line`)))
  })
}

describe('signaling CLI', () => {
  it('prints its URL, serves challenges, and exits 0 on SIGTERM', async () => {
    const cli = run(['signaling/cli.ts', '--port', '0', '--ice-servers', '[{"urls":"stun:stun.example.test"}]'])
    const url = await firstLine(cli.child)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(`${url}/p2p/challenge`)
    expect(res.status).toBe(200)
    cli.child.kill('SIGTERM')
    expect(await cli.exited).toBe(0)
  })

  it('exits 2 with usage on a bad flag, 1 on a bad option value', async () => {
    const badFlag = run(['signaling/cli.ts', '--port', 'nine'])
    const badIce = run(['signaling/cli.ts', '--port', '0', '--ice-servers', '[{"urls":"http://not-ice"}]'])
    expect(await badFlag.exited).toBe(2)
    expect(badFlag.stderr()).toContain('usage:')
    expect(await badIce.exited).toBe(1)
    expect(badIce.stdout()).toBe('')
  })

  it('lets the process exit by itself once the server is closed', async () => {
    const script = [
      "import { startSignalingServer } from './signaling/server.ts'",
      'const server = await startSignalingServer({ port: 0, aliveTimeoutMs: 1000 })',
      "await fetch(server.url + '/p2p/challenge')",
      'await server.close()',
    ].join('\n')
    const child = run(['--input-type=module', '-e', script])
    const timer = setTimeout(() => child.child.kill('SIGKILL'), 10_000)
    const code = await child.exited
    clearTimeout(timer)
    expect(child.stderr()).toBe('')
    expect(code).toBe(0)
  })
})
