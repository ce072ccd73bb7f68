// The token worker script as an app ships it: what the default worker of @spa-auth/core runs.
import { serveTokenWorker } from '@spa-auth/core/worker'

serveTokenWorker()
