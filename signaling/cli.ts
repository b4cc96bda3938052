import process from 'node:process'
import { parseCliArgs, USAGE } from './cli-args.js'
import { startSignalingServer } from './server.js'

/**
 * The signaling server as a command:
 *   npm run signal -- --port 9000 [--host 127.0.0.1] [--ice-servers '<json>']
 * Prints the URL on stdout, warnings on stderr; SIGINT/SIGTERM close it cleanly.
 */
async function main(argv: string[]): Promise<number> {
  let command
  try {
    command = parseCliArgs(argv)
  } catch (err: unknown) {
    console.error(err instanceof Error ? err.message : String(err))
    console.error(USAGE)
    return 2
  }
  if (command.kind === 'help') {
    console.log(USAGE)
    return 0
  }
  let server
  try {
    server = await startSignalingServer(command.options, {
      log: (message, detail) => console.error(`signal: ${message}`, detail ?? ''),
    })
  } catch (err: unknown) {
    console.error(`signal: cannot start: ${err instanceof Error ? err.message : String(err)}`)
    return 1
  }
  console.log(server.url)
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await stop
  await server.close()
  return 0
}

process.exitCode = await main(process.argv.slice(2))
