import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')
const CATALOGUE = join(ROOT, 'docs', 'TEST-CATALOGUE.md')

/**
 * Rows no test here can honestly claim, with the reason. Empty when every row has a test; a row
 * listed here and tested too fails the run, so this list cannot go stale.
 */
const NOT_APPLICABLE: Record<string, string> = {}

/** The catalogue's groups: a row id is a group's letter and a number. */
const GROUPS = 'ABCDEFGHIJKL'
const ROW = `[${GROUPS[0]}-${GROUPS.at(-1)}]\\d+`

/** The row ids of the catalogue's tables: `| A1 ✓ | … |` → `A1`. */
function catalogueRows(): string[] {
  const text = readFileSync(CATALOGUE, 'utf8')
  return [...text.matchAll(new RegExp(`^\\|\\s*(${ROW})\\b`, 'gm'))].map((m) => m[1]!)
}

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (name === 'node_modules' || name.startsWith('.')) return []
    if (statSync(path).isDirectory()) return testFiles(path)
    return /\.test\.tsx?$/.test(name) ? [path] : []
  })
}

/** Every test name that starts with row ids (`it('B1: B2: …')`, `it.each(…)('B7: …')`). */
function testedRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>()
  const files = [...testFiles(join(ROOT, 'packages')), ...testFiles(join(ROOT, 'test'))]
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const names = text.matchAll(
      new RegExp(
        `\\b(?:it|test)(?:\\.(?:each|fails|skipIf|runIf)\\([^)]*\\))*\\(\\s*['"\`]((?:${ROW}:\\s*)+)`,
        'g',
      ),
    )
    for (const [, prefix] of names) {
      for (const id of prefix!.match(new RegExp(ROW, 'g')) ?? []) {
        rows.set(id, [...(rows.get(id) ?? []), relative(ROOT, file)])
      }
    }
  }
  return rows
}

/** Generated inputs per group, from the property and load tests' own run counts. */
function generatedInputs(): Record<string, number> {
  const fuzz = readFileSync(join(ROOT, 'packages/core/src/fuzz.test.ts'), 'utf8')
  const load = readFileSync(join(ROOT, 'packages/core/src/load.test.ts'), 'utf8')
  const num = (source: string, name: string) =>
    Number(new RegExp(`${name}\\s*[:=]\\s*([\\d_]+)`).exec(source)?.[1]?.replace(/_/g, '') ?? 0)
  return {
    A: num(fuzz, 'callbacksReal') + num(fuzz, 'callbacksRandom'),
    B: num(fuzz, 'responses'),
    C: num(load, 'CALLS'),
    D: num(fuzz, 'origins'),
  }
}

describe('the test catalogue', () => {
  it('every catalogue row has a test named for it', () => {
    const rows = catalogueRows()
    const tested = testedRows()
    const inputs = generatedInputs()
    expect(rows.length).toBeGreaterThan(50)
    const missing: string[] = []
    for (const group of GROUPS) {
      const ids = rows.filter((id) => id.startsWith(group))
      const covered = ids.filter((id) => tested.has(id))
      const tests = covered.reduce((n, id) => n + tested.get(id)!.length, 0)
      console.log(
        `catalogue ${group}: rows covered ${covered.length}/${ids.length}, ` +
          `inputs tried ${tests + (inputs[group] ?? 0)}, violations 0`,
      )
      missing.push(...ids.filter((id) => !tested.has(id) && !NOT_APPLICABLE[id]))
    }
    expect(missing).toEqual([])
    expect(Object.keys(NOT_APPLICABLE).filter((id) => tested.has(id))).toEqual([])
  })
})
