import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { SoakReport } from './soak-child.js'

const run = promisify(execFile)

/**
 * Runs the soak in a child `node --expose-gc` (so heap figures come after a real GC, in a process
 * nothing else has touched) and returns its report.
 */
export async function measureSoak(childScript: string, cycles = 10_000): Promise<SoakReport> {
  const { stdout } = await run(process.execPath, ['--expose-gc', childScript, String(cycles)], {
    maxBuffer: 1 << 20,
  })
  const last = stdout.trim().split('\n').at(-1)
  if (!last) throw new Error('soak: the child printed nothing')
  return JSON.parse(last) as SoakReport
}
