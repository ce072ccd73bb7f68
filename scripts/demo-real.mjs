// `pnpm demo:real`: the demo against a real OpenID provider instead of its MSW mocks. Starts
// oidc-provider and a resource server on 127.0.0.1 (the interop tests' setup, test/interop/), then
// the demo's dev server with VITE_ISSUER, VITE_CLIENT_ID, VITE_API_ORIGIN and VITE_SCOPE pointing
// at them. Ctrl+C stops all three.
import { fileURLToPath } from 'node:url'
import { createServer, runnerImport } from 'vite'

const ACCESS_TOKEN_TTL = 30 // seconds: the demo shows it counting down and being refreshed at 25 s
const root = fileURLToPath(new URL('../demo', import.meta.url))
const stackModule = fileURLToPath(new URL('../test/interop/stack.ts', import.meta.url))

// The setup is TypeScript; Vite's module runner loads it without a build step.
const { module } = await runnerImport(stackModule, { configFile: false, logLevel: 'error' })

/** The demo's dev server, built against the provider and API the stack started. */
async function serveDemo(env) {
  // Vite reads VITE_* variables from the environment when it resolves its config.
  Object.assign(process.env, env)
  const server = await createServer({
    root,
    server: { host: '127.0.0.1', port: Number(process.env.PORT ?? 5173), strictPort: true },
  })
  await server.listen()
  return {
    origin: server.resolvedUrls.local[0].replace(/\/$/, ''),
    close: () => server.close(),
  }
}

const stack = await module.startStack({ serve: serveDemo, accessTokenTtl: ACCESS_TOKEN_TTL })

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await stack.close().catch((error) => console.error(error))
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

console.log(`
  spa-auth demo, real mode: ${stack.app.origin}/

  provider   ${stack.idp.issuer}  (oidc-provider; any login and password)
  API        ${stack.api.origin}/api/me  (accepts the provider's JWT access tokens)
  tokens     access ${ACCESS_TOKEN_TTL} s, refresh tokens rotate

  Ctrl+C stops all three.
`)
