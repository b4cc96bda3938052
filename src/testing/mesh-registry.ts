import { MESH_RESERVED } from '../mesh/messages.js'
import { ProtocolRegistry, type MeshProtocol } from '../mesh/protocol.js'
import { REACH_CLAIMS } from '../mesh/reach.js'
import { USER_CLAIMS } from '../mesh/user-messages.js'

/** The registry of a plain MeshSocket (the user messages' and the reach check's claims), plus `protocols` (test-only). */
export function meshRegistry(...protocols: MeshProtocol[]): ProtocolRegistry {
  const registry = new ProtocolRegistry(MESH_RESERVED)
  registry.add({ name: 'user', claims: USER_CLAIMS, onMessage: () => {} })
  registry.add({ name: 'reach', claims: REACH_CLAIMS, onMessage: () => {} })
  for (const p of protocols) registry.add(p)
  return registry
}
