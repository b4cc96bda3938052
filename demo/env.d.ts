// What the demo reads from `import.meta.env` (vite replaces these at build time).
interface ImportMetaEnv {
  /** The signaling server URL `npm start` (signaling/dev.ts) hands the dev server. */
  readonly VITE_P2P_SIGNALING?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
