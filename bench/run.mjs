// `pnpm bench`: Node 20 cannot run TypeScript, so esbuild bundles the bench (with spa-auth from
// its src, through the `source` condition) into node_modules/.cache, then this runs it.
// `pnpm bench --dpop` times the DPoP callers (and Bearer's) only, and writes nothing; `--apis`
// the callers with APIs of their own (and Bearer's).
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const outdir = join(root, 'node_modules/.cache/spa-auth-bench')

await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'bench/main.ts',
    'soak-child': 'bench/soak-child.ts',
    'overhead-child': 'bench/overhead-child.ts',
  },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  conditions: ['source'],
  // esbuild's native binary, Playwright's driver, axios's Node build (CommonJS requires), and the
  // BFF bench's provider and Redis client load from their packages; the rest is bundled.
  external: ['esbuild', 'playwright-core', 'axios', 'oidc-provider', 'ioredis'],
  sourcemap: 'inline',
  logLevel: 'warning',
})

const { runBench } = await import(pathToFileURL(join(outdir, 'main.mjs')).href)
await runBench({
  root,
  soakScript: join(outdir, 'soak-child.mjs'),
  overheadScript: join(outdir, 'overhead-child.mjs'),
  // `pnpm bench --dpop`: the DPoP rows of the overhead tables only, printed.
  dpop: process.argv.includes('--dpop'),
  // `pnpm bench --apis`: the rows of auth.fetch with APIs of their own, beside Bearer's, printed.
  apis: process.argv.includes('--apis'),
})
