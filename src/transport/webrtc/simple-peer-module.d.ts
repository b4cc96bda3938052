// simple-peer ships a self-contained build (its dependencies and the Buffer/process/events shims
// bundled in). Importing it instead of the package's index.js is what lets a plain Vite app use
// p2p-today with no Node-polyfill configuration. Its API is that of the package.
declare module 'simple-peer/simplepeer.min.js' {
  import SimplePeer from 'simple-peer'
  export default SimplePeer
}
