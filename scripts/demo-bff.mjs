// `pnpm demo:bff`: the demo behind @spa-auth/bff, with no token in the browser. Starts
// oidc-provider and a resource server on 127.0.0.1, the BFF (a confidential client) mounted in the
// demo's dev server, and prints the URL. `--instances 2` runs two BFF instances that share a Redis
// (Debian's redis-server, started on a free port) and answer in turn. Ctrl+C stops everything.
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runnerImport } from 'vite'

const ACCESS_TOKEN_TTL = 30
const { values } = parseArgs({ options: { instances: { type: 'string', default: '1' } } })
const instances = Number(values.instances)
if (!Number.isInteger(instances) || instances < 1 || instances > 8) {
  console.error('--instances takes a number from 1 to 8')
  process.exit(1)
}

const stackModule = fileURLToPath(new URL('../test/bff/demo-stack.ts', import.meta.url))
// The setup is TypeScript; Vite's module runner loads it without a build step.
const { module } = await runnerImport(stackModule, { configFile: false, logLevel: 'error' })
const demo = await module.startBffDemo({
  mode: 'dev',
  port: Number(process.env.PORT ?? 5173),
  instances,
  accessTokenTtl: ACCESS_TOKEN_TTL,
})

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await demo.close().catch((error) => console.error(error))
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

console.log(`
  spa-auth demo, BFF mode: ${demo.origin}/

  provider   ${demo.idp.issuer}  (oidc-provider; any login and password)
  BFF        ${demo.origin}/bff  (${instances} instance${instances > 1 ? `s on Redis :${demo.redis.port}, in turn` : ', sessions in memory'})
  API        ${demo.origin}/api/me → ${demo.api.origin}/api/me  (the BFF attaches the token)
  tokens     access ${ACCESS_TOKEN_TTL} s, refreshed by the BFF; none in the browser

  Ctrl+C stops everything.
`)
