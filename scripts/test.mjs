// The suite in two parts at once, each a command after another and a test file at a time: the
// browser files, which mostly wait on their pages and on tokens that expire in real time, and the
// type check, lint and package checks followed by the rest (jsdom and Node), which keep the other
// core busy. In one Vitest run they would take turns: Vitest runs a project whose files go one at a
// time only after every other project is done. (Three parts, the browser files in two, were
// quicker by a minute but starved the tests that wait on real time of CPU on two cores.)
import { spawn } from 'node:child_process'

const checks = ['typecheck', 'lint', 'publint', 'attw'].map((script) => [script])
const vitest = (part, ...args) => ({ part, args: ['exec', 'vitest', 'run', ...args, ...named] })

// Files named on the command line narrow the tests.
const named = process.argv.slice(2)
const browser = [vitest('browser', '--project', 'e2e')]
// Every project but the browser one in the other part, so that none is ever left out.
const rest = [...checks, vitest('node', '--project', '!e2e', '--maxWorkers', '1')]

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

const passed = await Promise.all([browser, rest].map(runPart))
process.exitCode = passed.every(Boolean) ? 0 : 1
