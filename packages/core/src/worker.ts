// `@spa-auth/core/worker`: what a token worker script of your own needs.
export type { TokenWorkerOptions } from './engine/serve.js'
export { serveTokenWorker } from './engine/serve.js'
