import { version } from 'react'
import { version as domVersion } from 'react-dom'
import { describe, expect, it } from 'vitest'

describe('the React under test', () => {
  it('is one version for react and react-dom', () => {
    console.log(`react figures: react=${version} react-dom=${domVersion}`)
    expect(version).toBe(domVersion)
    expect(Number(version.split('.')[0])).toBeGreaterThanOrEqual(18)
  })
})
