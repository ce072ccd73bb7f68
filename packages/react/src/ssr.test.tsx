// @vitest-environment node
import { Writable } from 'node:stream'
import { createAuthClient } from '@spa-auth/core'
import { Suspense } from 'react'
import { renderToPipeableStream, renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { AuthProvider, RequireAuth, useAuth, useAuthSuspense } from './index.js'

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

function Greeting() {
  const { user } = useAuthSuspense()
  return <p>Hello {user?.name}</p>
}

describe('server rendering with Suspense', () => {
  const app = () => {
    const auth = createAuthClient({
      issuer: 'https://idp.example.com',
      clientId: 'spa',
      redirectUri: 'https://app.example.com/callback',
    })
    return (
      <AuthProvider client={auth}>
        <Suspense fallback={<p>Restoring…</p>}>
          <Greeting />
        </Suspense>
      </AuthProvider>
    )
  }

  it('renders the fallback without window, and leaves the rest to the browser', () => {
    expect(typeof window).toBe('undefined')
    const html = renderToString(app())
    expect(html).toContain('Restoring…')
    expect(html).not.toContain('Hello')
  })

  it('a streamed render ends with the fallback, never waiting on a session it cannot know', async () => {
    const errors: unknown[] = []
    const html = await new Promise<string>((resolve, reject) => {
      let out = ''
      const sink = new Writable({
        write(chunk, _encoding, done) {
          out += chunk
          done()
        },
        final(done) {
          resolve(out)
          done()
        },
      })
      const stream = renderToPipeableStream(app(), {
        onAllReady: () => stream.pipe(sink),
        onShellError: reject,
        onError: (error) => {
          errors.push(error)
        },
      })
    })
    expect(html).toContain('Restoring…')
    expect(errors).toMatchObject([{ digest: 'spa-auth:client-only' }])
  })
})
