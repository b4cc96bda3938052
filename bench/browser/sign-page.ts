import { prepare, round } from './sign-cases.js'

// The signing bench page: the cases of sign-cases.ts on window.bench, for bench/sign-browser.ts.
const bench = { prepare, round }
export type SignBench = typeof bench
;(window as unknown as { bench: SignBench }).bench = bench
document.querySelector('[data-testid="state"]')!.textContent = 'ready'
