// examples/react-router as a user would run it: the three packages installed from their packed
// tarballs, the app's own Vitest test, then `vite build` served by `vite preview`, signed in and
// out in Chromium through @spa-auth/mocks' sign-in page.
import { cp, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, preview } from 'vite'
import { describe, expect, it } from 'vitest'
import { closeContext, openContext, watchPage } from './browser.js'
import { fromTarballs, installedApp, run, workspace } from './pack.js'

const example = join(workspace, 'examples/react-router')
const figures: Record<string, string | number> = {}

/** Copies the example and points its @spa-auth dependencies at the tarballs. */
async function createApp(
  tarballs: Record<string, string>,
  cleanup: (done: () => Promise<unknown>) => void,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spa-auth-router-example-'))
  cleanup(() => rm(dir, { recursive: true, force: true }))
  const skip = new Set(['node_modules', 'dist'])
  await cp(example, dir, { recursive: true, filter: (src) => !skip.has(src.split('/').at(-1)!) })
  const json = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
  const ours = fromTarballs(tarballs)
  json.dependencies = { ...json.dependencies, ...ours.dependencies }
  json.pnpm = { ...json.pnpm, ...ours.pnpm }
  await writeFile(join(dir, 'package.json'), JSON.stringify(json, null, 2))
  const started = Date.now()
  await run('pnpm', ['install', '--prefer-offline'], { cwd: dir })
  figures.installMs = Date.now() - started
  return dir
}

/** Where `react` resolves from `from` (a package folder of the app), as its real path. */
async function reactSeenFrom(from: string): Promise<string> {
  const require = createRequire(join(await realpath(from), 'package.json'))
  return realpath(require.resolve('react/package.json'))
}

const app = installedApp(['core', 'react', 'mocks'], createApp, 'router example', figures)

describe('examples/react-router, installed from the tarballs', () => {
  it('has one copy of React, whoever asks for it', async () => {
    const modules = join(app.dir, 'node_modules')
    const askers = ['@spa-auth/react', 'react-dom', 'react-router', '@tanstack/react-query']
    const seen = new Set(
      await Promise.all([app.dir, ...askers.map((a) => join(modules, a))].map(reactSeenFrom)),
    )
    figures.reactCopies = seen.size
    expect(seen.size).toBe(1)
  })

  it("passes its own component test (Vitest, jsdom, @spa-auth/mocks' server)", async () => {
    const { stdout } = await run('pnpm', ['test'], {
      cwd: app.dir,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
    })
    const passed = /Tests\s+(\d+) passed/.exec(stdout)?.[1]
    figures.appTestsPassed = passed ?? 0
    expect(passed).toBe('1')
  })

  it('signs in from a protected route, loads its data from two APIs through queries, signs out', async () => {
    const config = {
      root: app.dir,
      configFile: join(app.dir, 'vite.config.ts'),
      logLevel: 'warn' as const,
    }
    await build(config)
    const server = await preview({ ...config, preview: { host: '127.0.0.1', port: 0 } })
    app.cleanup(() => server.close())
    const origin = server.resolvedUrls!.local[0]!.replace(/\/$/, '')
    const context = await openContext(app.browser)
    app.cleanup(() => closeContext(context))
    const page = await context.newPage()
    const { consoleErrors, tokens } = watchPage(page)

    // The loader's guard sends an unknown visitor to the provider, keeping where they were going.
    const started = Date.now()
    await page.goto(`${origin}/orders?page=2`)
    await page.getByRole('button', { name: 'Continue' }).click({ timeout: 20_000 })
    await expect
      .poll(() => page.getByRole('list', { name: 'orders' }).textContent(), { timeout: 20_000 })
      .toContain('Hand grinder: 89')
    figures.signInToDataMs = Date.now() - started
    // The second API took a token of its own audience, which only it accepts.
    await expect
      .poll(() => page.getByTestId('billing').textContent())
      .toBe('Billing API: a token for urn:billing')
    const landed = new URL(page.url())
    expect(landed.pathname + landed.search).toBe('/orders?page=2')
    expect(await page.getByTestId('user').textContent()).toBe('Alice Martin')
    await page.screenshot({ path: join(workspace, 'test-results/e2e/router-example.png') })

    await page.getByRole('button', { name: 'Sign out' }).click()
    await expect
      .poll(() => page.getByRole('heading').textContent(), { timeout: 20_000 })
      .toBe('Home')
    expect(new URL(page.url()).pathname).toBe('/')
    expect(await page.getByTestId('user').count()).toBe(0)
    // Signed out for real: the protected route asks for a sign-in again.
    await page.goto(`${origin}/orders`)
    await expect
      .poll(() => page.getByRole('heading').textContent(), { timeout: 20_000 })
      .toBe('Sign in')
    // The token worker made every token request: the page's network saw no token answer.
    figures.tokenAnswersSeenByPage = tokens.size
    expect(tokens.size).toBe(0)
    expect(consoleErrors).toEqual([])
  })
})
