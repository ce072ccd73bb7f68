// The default token worker script: the page starts it as a SharedWorker (or a dedicated Worker
// where there is none) named for the client's configuration.
import { serveTokenWorker } from './serve.js'

serveTokenWorker()
