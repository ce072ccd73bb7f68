import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// React 18 and what binds to it, installed by the test/react18 workspace package.
const react18 = (name: string) =>
  fileURLToPath(new URL(`./test/react18/node_modules/${name}`, import.meta.url))

const ci = Boolean(process.env.CI)
// The soak runs minutes of real time, mostly idle: `pnpm test:soak` runs it in a Vitest of its own
// (SPA_AUTH_SOAK=1), apart from `pnpm test`; CI runs it after the suite.
const soak = Boolean(process.env.SPA_AUTH_SOAK)
// Which half of `pnpm test` this run is (scripts/test.mjs), or `all` when Vitest runs alone.
const part = process.env.SPA_AUTH_PART ?? 'all'

/** Tests that run in a page: jsdom at the app's origin, with Node's typed arrays (see the file). */
const inPage = (include: string, setup: string) => ({
  include: [include],
  environment: 'jsdom' as const,
  environmentOptions: { jsdom: { url: 'https://app.example.com/' } },
  setupFiles: ['packages/mocks/src/jsdom.ts', setup],
})
const coreTests = inPage('packages/core/src/**/*.test.ts', 'test/setup/in-page-engine.ts')
const reactTests = inPage('packages/react/src/**/*.test.{ts,tsx}', 'test/setup/react.ts')

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    // Two at a time even on two cores (the default leaves one core idle there); scripts/test.mjs
    // runs each part of the suite a file at a time instead, the parts side by side.
    maxWorkers: 2,
    // In CI, a JSON report per run: the soak's, and each part of `pnpm test` (scripts/test.mjs).
    reporters: ci
      ? ['default', ['json', { outputFile: `test-results/vitest-${soak ? 'soak' : part}.json` }]]
      : ['default'],
    projects: soak
      ? [
          {
            extends: true,
            test: {
              name: 'soak',
              include: ['test/soak/**/*.test.ts'],
              environment: 'node',
              globalSetup: ['test/e2e/demo-build.ts'],
              expect: { poll: { timeout: 10_000 } },
              testTimeout: 900_000,
              hookTimeout: 120_000,
            },
          },
        ]
      : [
          {
            extends: true,
            // The mock provider's own tests run once, with the core's, in a page.
            test: {
              name: 'core',
              ...coreTests,
              include: [...coreTests.include, 'packages/mocks/src/**/*.test.ts'],
            },
          },
          {
            // The core suite again, with the engine behind a port as in a token worker.
            extends: true,
            test: {
              name: 'core-port',
              ...coreTests,
              // Its own pages and ports already; BFF mode has no engine.
              exclude: ['packages/core/src/protocol.test.ts', 'packages/core/src/bff/**'],
              env: { SPA_AUTH_ENGINE: 'port' },
            },
          },
          { extends: true, test: { name: 'react', ...reactTests } },
          {
            // The same React tests on React 18, the oldest React the peer range allows.
            extends: true,
            resolve: {
              alias: ['react', 'react-dom', 'zustand', '@testing-library/react'].map((name) => ({
                find: new RegExp(`^${name}(/.*)?$`),
                replacement: `${react18(name)}$1`,
              })),
            },
            test: { name: 'react18', ...reactTests },
          },
          {
            extends: true,
            test: {
              name: 'catalogue',
              include: ['test/catalogue/**/*.test.ts'],
              environment: 'node',
            },
          },
          {
            // @spa-auth/bff against oidc-provider, a resource server and Redis, all in process.
            extends: true,
            test: {
              name: 'bff',
              include: ['test/bff/**/*.test.ts'],
              environment: 'node',
              testTimeout: 60_000,
              hookTimeout: 60_000,
            },
          },
          {
            extends: true,
            test: { name: 'size', include: ['test/size/**/*.test.ts'], environment: 'node' },
          },
          {
            extends: true,
            test: {
              name: 'e2e',
              include: ['test/e2e/**/*.test.ts', 'test/interop/**/*.test.ts'],
              environment: 'node',
              // The demo, built once for the files that serve it.
              globalSetup: ['test/e2e/demo-build.ts'],
              // Browsers and servers on two cores: one file at a time keeps timings honest.
              fileParallelism: false,
              // What a page shows may take a few seconds on a busy machine.
              expect: { poll: { timeout: 10_000 } },
              testTimeout: 120_000,
              hookTimeout: 120_000,
            },
          },
        ],
  },
})
