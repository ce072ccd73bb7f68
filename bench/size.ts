import { readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { type BuildOptions, build } from 'esbuild'

/** One typical-app entry to bundle. */
export interface SizeEntry {
  /** The row's label: the packages the bundle holds. */
  name: string
  /** The entry file under bench/entries, or an inline module (`contents`) resolved from `resolveDir`. */
  file?: string
  contents?: string
  /** Where the inline module's imports resolve from, relative to the repository root. */
  resolveDir?: string
  /** The spa-auth row this one is compared with. */
  versus: 'core' | 'react' | 'worker'
  /** Ours: bundled from the packages' TypeScript sources (`source` condition). */
  ours?: boolean
  /** Package directories (relative to the root) whose versions the row measures. */
  packages: string[]
}

/** Bytes of one bundle: what the page loads before it runs (the entry and its static imports). */
export interface SizeResult {
  name: string
  versus: SizeEntry['versus']
  minified: number
  gzip: number
  brotli: number
  /** Gzip bytes of the chunks it loads only on demand (`import()`), which this total leaves out. */
  lazyGzip: number
}

const REACT_EXTERNAL = ['react', 'react-dom', 'react/*', 'react-dom/*']

/** Our two entries: the budget test bundles these. */
export const OUR_ENTRIES: readonly SizeEntry[] = [
  {
    name: '@spa-auth/core',
    file: 'spa-auth-core.ts',
    versus: 'core',
    ours: true,
    packages: ['packages/core'],
  },
  {
    name: '@spa-auth/core + @spa-auth/react',
    file: 'spa-auth-react.tsx',
    versus: 'react',
    ours: true,
    packages: ['packages/core', 'packages/react'],
  },
  {
    name: '@spa-auth/core token worker (its own script)',
    file: 'spa-auth-worker.ts',
    versus: 'worker',
    ours: true,
    packages: ['packages/core'],
  },
  {
    name: '@spa-auth/core/bff (BFF mode)',
    file: 'spa-auth-bff.ts',
    versus: 'core',
    ours: true,
    packages: ['packages/core'],
  },
  {
    name: '@spa-auth/core/bff + @spa-auth/react (BFF mode)',
    file: 'spa-auth-bff-react.tsx',
    versus: 'react',
    ours: true,
    packages: ['packages/core', 'packages/react'],
  },
]

const nm = (name: string) => `node_modules/${name}`

/** The alternatives, each doing what our entries do. */
export const PEER_ENTRIES: readonly SizeEntry[] = [
  {
    name: 'oidc-client-ts',
    file: 'oidc-client-ts.ts',
    versus: 'core',
    packages: [nm('oidc-client-ts')],
  },
  {
    name: 'react-oidc-context + oidc-client-ts',
    file: 'react-oidc-context.tsx',
    versus: 'react',
    packages: [nm('react-oidc-context'), nm('oidc-client-ts')],
  },
  {
    name: '@auth0/auth0-spa-js',
    file: 'auth0-spa-js.ts',
    versus: 'core',
    packages: [nm('@auth0/auth0-spa-js')],
  },
  {
    name: '@auth0/auth0-react + auth0-spa-js',
    file: 'auth0-react.tsx',
    versus: 'react',
    packages: [nm('@auth0/auth0-react'), nm('@auth0/auth0-spa-js')],
  },
  {
    name: '@azure/msal-browser',
    file: 'msal-browser.ts',
    versus: 'core',
    packages: [nm('@azure/msal-browser')],
  },
  {
    name: '@azure/msal-react + msal-browser',
    file: 'msal-react.tsx',
    versus: 'react',
    packages: [nm('@azure/msal-react'), nm('@azure/msal-browser')],
  },
  { name: 'keycloak-js', file: 'keycloak-js.ts', versus: 'core', packages: [nm('keycloak-js')] },
  {
    name: '@okta/okta-auth-js',
    file: 'okta-auth-js.ts',
    versus: 'core',
    packages: [nm('@okta/okta-auth-js')],
  },
  {
    // Not a root dependency: it resolves from the core package, which depends on it.
    name: 'oauth4webapi (whole module, `export *`)',
    contents: "export * from 'oauth4webapi'",
    resolveDir: 'packages/core',
    versus: 'core',
    packages: ['packages/core/node_modules/oauth4webapi'],
  },
]

/** The esbuild options of the issue: `--bundle --minify --format=esm --platform=browser --target=es2022`. */
function options(root: string, entry: SizeEntry): BuildOptions {
  const input: BuildOptions = entry.file
    ? { entryPoints: [join(root, 'bench/entries', entry.file)] }
    : {
        stdin: {
          contents: entry.contents ?? '',
          resolveDir: join(root, entry.resolveDir ?? '.'),
          loader: 'ts',
        },
      }
  return {
    ...input,
    absWorkingDir: root,
    bundle: true,
    // Chunks as an app's bundler makes them: what is loaded on demand is measured apart.
    splitting: true,
    outdir: join(root, 'node_modules/.cache/spa-auth-size'),
    metafile: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: REACT_EXTERNAL,
    // Ours from src, so the figure is of the code in the tree, not of a stale dist.
    ...(entry.ours ? { conditions: ['source'] } : {}),
    // esbuild sets NODE_ENV=production for a minified browser build; said here for the reader.
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'silent',
  }
}

const gzip = (code: Uint8Array) => gzipSync(code, { level: 9 }).byteLength
const brotli = (code: Uint8Array) =>
  brotliCompressSync(code, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: code.byteLength,
    },
  }).byteLength

/**
 * Bundles one entry and measures minified, gzip -9 and brotli (quality 11) bytes of what the page
 * loads before it runs: the entry chunk and the chunks it imports statically, each compressed on
 * its own as a server sends them. Chunks loaded by `import()` are counted apart.
 */
export async function measure(root: string, entry: SizeEntry): Promise<SizeResult> {
  const result = await build(options(root, entry))
  const outputs = result.metafile?.outputs ?? {}
  const files = new Map((result.outputFiles ?? []).map((f) => [relative(root, f.path), f.contents]))
  const first = Object.entries(outputs).find(([, output]) => output.entryPoint)?.[0]
  if (!first) throw new Error(`size: esbuild produced no output for ${entry.name}`)
  const eager = new Set<string>()
  const visit = (path: string) => {
    if (eager.has(path)) return
    eager.add(path)
    for (const i of outputs[path]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path)
  }
  visit(first)
  const sum = (paths: string[], measure: (code: Uint8Array) => number) =>
    paths.reduce((n, path) => n + measure(files.get(path) ?? new Uint8Array()), 0)
  const main = [...eager].filter((path) => path.endsWith('.js'))
  const lazy = Object.keys(outputs).filter((path) => path.endsWith('.js') && !eager.has(path))
  return {
    name: entry.name,
    versus: entry.versus,
    minified: sum(main, (code) => code.byteLength),
    gzip: sum(main, gzip),
    brotli: sum(main, brotli),
    lazyGzip: sum(lazy, gzip),
  }
}

/** The version in a package directory's package.json. */
export async function versionOf(root: string, dir: string): Promise<string> {
  const json = JSON.parse(await readFile(join(root, dir, 'package.json'), 'utf8')) as {
    name: string
    version: string
  }
  return `${json.name}@${json.version}`
}

/** Every row, ours first; one at a time, to keep the 2-core machine's other work steady. */
export async function measureAll(root: string): Promise<SizeResult[]> {
  const results: SizeResult[] = []
  for (const entry of [...OUR_ENTRIES, ...PEER_ENTRIES]) results.push(await measure(root, entry))
  return results
}
