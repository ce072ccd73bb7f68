// The suite's two halves at once, each a file at a time: the browser files (Chromium), which
// mostly wait on their pages, and the rest (jsdom and Node), on the other core. In one Vitest run
// they would take turns: Vitest runs a project whose files go one at a time only after every
// other project is done.
import { spawn } from 'node:child_process'

// Every project but the browser one in the second half, so that none is ever left out.
const parts = [
  { name: 'browser', args: ['--project', 'e2e'] },
  { name: 'node', args: ['--project', '!e2e', '--maxWorkers', '1'] },
]

/** Runs one half; resolves with its exit code. */
function run({ name, args }) {
  const child = spawn('pnpm', ['exec', 'vitest', 'run', ...args, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SPA_AUTH_PART: name },
  })
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(signal ? 1 : code)))
}

const codes = await Promise.all(parts.map(run))
process.exitCode = codes.some((code) => code !== 0) ? 1 : 0
