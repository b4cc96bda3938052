import { fromHex } from '../../src/util/bytes.js'
import { Identity } from '../../src/wire/identity.js'
import { SignatureVerifier } from '../../src/wire/signed.js'
import { checkSyncVector, type SyncVectorCheck, type SyncVectors } from '../../src/testing/sync-vector-check.js'

// The sync table's vectors (src/wire/fixtures/vectors-sync.json) checked by the library's code in
// Chromium: each frame decoded by the mesh's frame decoder and the sync claims, re-encoded, the
// flooded frame and the write re-signed and verified, with WebCrypto's Ed25519 only.

export interface SyncVectorsPage {
  /** The backends the page signs and verifies with. */
  backends(): Promise<{ identity: string; verifier: string }>
  check(vectors: SyncVectors, id: string): Promise<SyncVectorCheck>
}

const crypto = async (vectors: SyncVectors): Promise<{ identity: Identity; verifier: SignatureVerifier }> => ({
  identity: await Identity.fromKeyPair({ publicKey: fromHex(vectors.public_key_hex), secretKey: fromHex(vectors.seed_hex) }, { backend: 'webcrypto' }),
  verifier: new SignatureVerifier({ backend: 'webcrypto' }),
})

const api: SyncVectorsPage = {
  backends: async () => {
    const identity = await Identity.generate({ backend: 'webcrypto' })
    return { identity: identity.backend, verifier: await new SignatureVerifier({ backend: 'webcrypto' }).ready() }
  },
  check: async (vectors, id) => {
    const v = vectors.messages[id]
    if (v === undefined) throw new TypeError(`no vector ${id}`)
    return checkSyncVector(vectors, v, await crypto(vectors))
  },
}

;(window as unknown as { syncVectors: SyncVectorsPage }).syncVectors = api
document.querySelector('[data-testid="state"]')!.textContent = 'ready'
