// @vitest-environment node
import { createAuthClient } from '@spa-auth/core'
import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { AuthProvider, RequireAuth, useAuth } from './index.js'

function Status() {
  return <p>status: {useAuth().status}</p>
}

describe('server rendering', () => {
  it('renders the loading state without window, document or storage', () => {
    expect(typeof window).toBe('undefined')
    expect(typeof sessionStorage).toBe('undefined')
    const auth = createAuthClient({
      issuer: 'https://idp.example.com',
      clientId: 'spa',
      redirectUri: 'https://app.example.com/callback',
      apiOrigins: ['https://api.example.com'],
    })
    const html = renderToString(
      <AuthProvider client={auth}>
        <Status />
        <RequireAuth fallback={<p>Loading…</p>}>
          <p>secret</p>
        </RequireAuth>
      </AuthProvider>,
    )
    expect(html).toContain('status: <!-- -->loading')
    expect(html).toContain('Loading…')
    expect(html).not.toContain('secret')
  })
})
