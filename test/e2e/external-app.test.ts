// An app outside the workspace, installed from the packed tarballs as a user would install them,
// with a Vite config that says nothing about spa-auth: its token worker must still be the
// SharedWorker, under `vite dev` and in a `vite build` served by `vite preview`.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { build, createServer, preview } from 'vite'
import { describe, expect, it } from 'vitest'
import { closeContext, openContext, watchPage } from './browser.js'
import { fromTarballs, installedApp, run } from './pack.js'

// Stopped in reverse order after the last test, whether or not it passed.
const figures: Record<string, string | number> = {}

/** The app's files: a plain Vite + React app, as `create-vite` would start it. */
function appFiles(tarballs: Record<string, string>): Record<string, string> {
  const ours = fromTarballs(tarballs)
  const packageJson = {
    name: 'external-app',
    private: true,
    type: 'module',
    dependencies: { ...ours.dependencies, react: '19.3.1', 'react-dom': '19.3.1' },
    devDependencies: { '@vitejs/plugin-react': '6.3.0', vite: '8.3.8' },
    pnpm: ours.pnpm,
  }
  return {
    'package.json': JSON.stringify(packageJson, null, 2),
    'vite.config.ts': [
      "import react from '@vitejs/plugin-react'",
      "import { defineConfig } from 'vite'",
      '',
      'export default defineConfig({ plugins: [react()] })',
    ].join('\n'),
    // An empty icon: without one the browser asks for /favicon.ico and logs its 404 as an error.
    'index.html': `<!doctype html>
<html lang="en">
  <head><meta charset="UTF-8" /><link rel="icon" href="data:," /><title>external app</title></head>
  <body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body>
</html>`,
    'src/main.tsx': `import { createAuthClient } from '@spa-auth/core'
import { AuthProvider, useAuth } from '@spa-auth/react'
import { createRoot } from 'react-dom/client'

const auth = createAuthClient({
  issuer: 'https://idp.example.invalid',
  clientId: 'ext-app',
  redirectUri: location.origin + '/callback',
  restore: { silent: false },
})
auth.on((e) => {
  if (e.type === 'connected') document.title = 'holder:' + e.holder
})

function Status() {
  const { status } = useAuth()
  return <p data-testid="status">{status}</p>
}

createRoot(document.getElementById('root')!).render(
  <AuthProvider client={auth}>
    <Status />
  </AuthProvider>,
)
`,
  }
}

/** Writes the app and installs it, from the store where the workspace's install left it. */
async function createApp(
  tarballs: Record<string, string>,
  cleanup: (done: () => Promise<unknown>) => void,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spa-auth-external-app-'))
  cleanup(() => rm(dir, { recursive: true, force: true }))
  for (const [path, text] of Object.entries(appFiles(tarballs))) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  const started = Date.now()
  await run('pnpm', ['install', '--prefer-offline'], { cwd: dir })
  figures.installMs = Date.now() - started
  return dir
}

/** The SharedWorkers the browser runs, by script URL, as its DevTools protocol lists them. */
async function sharedWorkerUrls(): Promise<string[]> {
  const cdp = await app.browser.newBrowserCDPSession()
  try {
    const { targetInfos } = await cdp.send('Target.getTargets')
    return targetInfos.filter((t) => t.type === 'shared_worker').map((t) => t.url)
  } finally {
    await cdp.detach()
  }
}

/**
 * Opens the app at `origin` and waits for its client to connect. Returns where the session is
 * kept, what the page shows, and what its console said.
 */
async function openApp(origin: string) {
  const context = await openContext(app.browser)
  app.cleanup(() => closeContext(context))
  const page = await context.newPage()
  const { consoleErrors } = watchPage(page)
  const fallbacks: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'info' && message.text().startsWith('spa-auth:'))
      fallbacks.push(message.text())
  })
  await page.goto(`${origin}/`)
  // The client says where it connected once the worker answered, or once it gave up on it.
  await expect.poll(() => page.title(), { timeout: 20_000 }).toMatch(/^holder:/)
  await expect.poll(() => page.getByTestId('status').textContent()).toBe('unauthenticated')
  const holder = (await page.title()).slice('holder:'.length)
  return { holder, consoleErrors, fallbacks }
}

const inline = () => ({
  root: app.dir,
  configFile: join(app.dir, 'vite.config.ts'),
  logLevel: 'warn' as const,
})

const app = installedApp(['core', 'react'], createApp, 'external app', figures)

describe('an app outside the workspace, with no spa-auth configuration', () => {
  it('gets the SharedWorker under vite dev', async () => {
    const server = await createServer({
      ...inline(),
      server: { host: '127.0.0.1', port: 0, strictPort: false },
    })
    app.cleanup(() => server.close())
    await server.listen()
    const origin = server.resolvedUrls!.local[0]!.replace(/\/$/, '')

    const { holder, consoleErrors, fallbacks } = await openApp(origin)
    figures.devHolder = holder
    // Where the worker failed, `fallbacks` says why.
    expect({ holder, fallbacks }).toEqual({ holder: 'shared-worker', fallbacks: [] })
    expect(consoleErrors).toEqual([])
    // Vite pre-bundles @spa-auth/core, but points the worker's URL back at the package's own
    // script in the app's node_modules, and serves it from there.
    const ours = (await sharedWorkerUrls()).filter((url) => url.startsWith(`${origin}/`))
    expect(ours).toHaveLength(1)
    expect(ours[0]).toContain('/node_modules/@spa-auth/core/dist/engine/worker.js')
  })

  it('gets the SharedWorker from vite build, served by vite preview', async () => {
    await build(inline())
    const assets = await readdir(join(app.dir, 'dist', 'assets'))
    const workerChunks = assets.filter((name) => name.includes('worker'))
    figures.workerChunks = workerChunks.join(',')
    expect(workerChunks).toHaveLength(1)
    const server = await preview({ ...inline(), preview: { host: '127.0.0.1', port: 0 } })
    app.cleanup(() => server.close())
    const origin = server.resolvedUrls!.local[0]!.replace(/\/$/, '')

    const { holder, consoleErrors, fallbacks } = await openApp(origin)
    figures.buildHolder = holder
    // Where the worker failed, `fallbacks` says why.
    expect({ holder, fallbacks }).toEqual({ holder: 'shared-worker', fallbacks: [] })
    expect(consoleErrors).toEqual([])
    // The worker runs from the chunk the build emitted.
    const ours = (await sharedWorkerUrls()).filter((url) => url.startsWith(`${origin}/`))
    expect(ours).toEqual([`${origin}/assets/${workerChunks[0]}`])
  })
})
