// `pnpm test`'s last step: every Vitest project, and beside them, in a Vitest of its own, the
// soak (the demo idle for 10 minutes of real time in Chromium, which no fake clock can shorten: the
// token worker keeps its own time). Its output is printed once both are done.
import { spawn } from 'node:child_process'

function vitest(env, capture) {
  return new Promise((resolve) => {
    const child = spawn('pnpm', ['exec', 'vitest', 'run'], {
      stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      env: { ...process.env, ...env },
    })
    let output = ''
    if (capture) {
      child.stdout.on('data', (chunk) => (output += chunk))
      child.stderr.on('data', (chunk) => (output += chunk))
    }
    child.on('close', (code) => resolve({ code, output }))
  })
}

const [all, soak] = await Promise.all([vitest({}, false), vitest({ SPA_AUTH_SOAK: '1' }, true)])
console.log('\n# the soak (test/soak), run beside the rest\n')
process.stdout.write(soak.output)
// A run killed by a signal closes with no code: only two clean exits are a pass.
process.exitCode = all.code === 0 && soak.code === 0 ? 0 : 1
