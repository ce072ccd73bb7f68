// The suite in three parts at once, each a command after another and a test file at a time: the
// browser files in two (they mostly wait on their pages, and on tokens that expire in real time;
// the type check, lint and package checks go before one of them), and the rest (jsdom and Node),
// which keeps a core busy. In one Vitest run they would take turns: Vitest runs a project whose files go one at
// a time only after every other project is done.
import { spawn } from 'node:child_process'

const checks = ['typecheck', 'lint', 'publint', 'attw'].map((script) => [script])
const vitest = (part, ...args) => ({ part, args: ['exec', 'vitest', 'run', ...args, ...named] })

// Files named on the command line narrow the tests, and the browser files then run as one part.
const named = process.argv.slice(2)
// The browser files that run beside test/interop rather than with the rest of test/e2e: the two
// parts then take about as long.
const beside = ['test/e2e/attacker.test.ts', 'test/e2e/popup.test.ts']
const browser = named.length
  ? [[...checks, vitest('browser', '--project', 'e2e')]]
  : [
      [
        ...checks,
        vitest(
          'browser',
          '--project',
          'e2e',
          'test/e2e/',
          ...beside.flatMap((f) => ['--exclude', f]),
        ),
      ],
      [vitest('interop', '--project', 'e2e', 'test/interop/', ...beside)],
    ]
// Every project but the browser one in the last part, so that none is ever left out.
const rest = [vitest('node', '--project', '!e2e', '--maxWorkers', '1')]

/** Runs one command (`pnpm` and its arguments); resolves with its exit code. */
function run(step) {
  const { part = 'all', args } = Array.isArray(step) ? { args: step } : step
  const child = spawn('pnpm', args, {
    stdio: 'inherit',
    env: { ...process.env, SPA_AUTH_PART: part },
  })
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(signal ? 1 : code)))
}

/** Runs a part's commands one after another, each whatever the one before it did. */
async function runPart(steps) {
  const codes = []
  for (const step of steps) codes.push(await run(step))
  return codes.every((code) => code === 0)
}

const passed = await Promise.all([...browser, rest].map(runPart))
process.exitCode = passed.every(Boolean) ? 0 : 1
