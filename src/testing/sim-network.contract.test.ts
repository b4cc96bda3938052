import type { Link } from '../transport/types.js'
import { SimNetwork } from './sim-network.js'
import { runTransportContract } from './transport-contract.js'

const MiB = 1024 * 1024

for (const latency of [
  { min: 0, max: 0 },
  { min: 1, max: 20 },
]) {
  runTransportContract(
    `sim links (latency ${latency.min}..${latency.max} ms, no drops)`,
    async () => {
      const net = new SimNetwork({ seed: 7, latency, highWaterMark: MiB, maxMessageBytes: 12 * MiB })
      const stop = net.autoRun()
      const [ta, tb] = [net.transport('a'), net.transport('b')]
      const incoming = new Promise<Link>((resolve) => tb.on('link', resolve))
      const a = await ta.dial('b')
      const b = await incoming
      return {
        a,
        b,
        cleanup: async () => {
          await Promise.all([ta.close(), tb.close()])
          stop()
        },
      }
    },
    { maxMessageBytes: 12 * MiB, maxBufferedAfterSend: MiB + 256 * 1024 },
  )
}
