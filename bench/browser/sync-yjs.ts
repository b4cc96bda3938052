import * as Y from 'yjs'
import { WebrtcProvider } from 'y-webrtc'
import { IndexeddbPersistence } from 'y-indexeddb'
import type { Replica, Tracker } from './sync-replica.js'

// The Yjs side of the sync bench: a Y.Map in a Y.Doc, synced by y-webrtc (its own signaling
// server, on loopback; no STUN) and kept in IndexedDB by y-indexeddb. y-webrtc's defaults
// otherwise: every peer of the room links to every other (maxConns 20–34), no password.

export interface YjsConfig {
  signaling: string
  room: string
}

export class YjsReplica implements Replica {
  readonly doc = new Y.Doc()
  readonly map: Y.Map<string>
  readonly persistence: IndexeddbPersistence
  readonly provider: WebrtcProvider

  constructor(config: YjsConfig, tracker: Tracker) {
    this.map = this.doc.getMap('table')
    this.map.observe((event) => {
      for (const key of event.keysChanged) tracker.changed(key)
    })
    this.persistence = new IndexeddbPersistence(config.room, this.doc)
    this.provider = new WebrtcProvider(config.room, this.doc, { signaling: [config.signaling], peerOpts: { config: { iceServers: [] } } })
  }

  /** The document's whole state as one update: what y-webrtc sends a new peer in one data-channel message. */
  stateBytes(): number {
    return Y.encodeStateAsUpdate(this.doc).length
  }

  get id(): string {
    return this.provider.room?.peerId ?? ''
  }
  size = (): number => this.map.size
  get = (key: string): unknown => this.map.get(key)
  set = (key: string, value: string): Promise<void> => {
    this.map.set(key, value)
    return Promise.resolve()
  }
  setMany = (entries: Array<[string, string]>): Promise<void> => {
    this.doc.transact(() => {
      for (const [key, value] of entries) this.map.set(key, value)
    })
    return Promise.resolve()
  }
  ready = async (): Promise<void> => {
    await this.persistence.whenSynced
  }
  peers = (): string[] => [...(this.provider.room?.webrtcConns ?? new Map()).values()].filter((c) => c.connected).map((c) => c.remotePeerId)

  /** The partition's lever: y-webrtc's own disconnect/connect, to another signaling server (its links all close and re-form). */
  moveTo(signaling: string): void {
    this.provider.disconnect()
    this.provider.signalingUrls = [signaling]
    this.provider.connect()
  }

  close = async (): Promise<void> => {
    this.provider.destroy()
    await this.persistence.destroy()
    this.doc.destroy()
  }
}
