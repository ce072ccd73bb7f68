import { useEffect, useState } from 'react'
import { idp } from './mock-idp'

/** The mock provider's sign-in page: what a real provider shows on its own origin. */
export function MockSignIn() {
  const [busy, setBusy] = useState(false)
  const params = new URLSearchParams(location.search)

  const answer = async (user: { sub?: string; deny?: boolean }) => {
    setBusy(true)
    location.replace(await idp.authorize(location.href, user))
  }

  // prompt=none: answer at once, with the provider's session or `login_required` (unless told
  // to play a provider that ignores it and shows its form). Once per page load.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the request is this page's address
  useEffect(() => {
    if (params.get('prompt') !== 'none') return
    void idp.sync().then(() => {
      if (idp.sharedFaults.promptNone !== 'form') void answer({})
    })
  }, [])

  return (
    <div className="idp">
      <form
        className="idp-card"
        onSubmit={(event) => {
          event.preventDefault()
          const sub = new FormData(event.currentTarget).get('user')
          void answer({ sub: String(sub) })
        }}
      >
        <div className="idp-brand">Mock Identity Provider</div>
        <h1>Sign in</h1>
        <p className="muted">
          to continue to <strong>{params.get('client_id')}</strong>
        </p>
        <label className="idp-user">
          <input type="radio" name="user" value="alice" defaultChecked /> Alice Martin
          <span className="muted">alice@example.com</span>
        </label>
        <label className="idp-user">
          <input type="radio" name="user" value="bob" /> Bob Chen
          <span className="muted">bob@example.com</span>
        </label>
        <div className="row">
          <button type="button" disabled={busy} onClick={() => answer({ deny: true })}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Continue
          </button>
        </div>
        <p className="fine">
          PKCE S256 required · codes single-use · refresh tokens rotate with reuse detection
        </p>
      </form>
    </div>
  )
}

/** The mock provider's end-session page: forgets its session, then returns to the app. */
export function MockSignOut() {
  useEffect(() => {
    const back = new URLSearchParams(location.search).get('post_logout_redirect_uri')
    idp
      .endSession()
      .then(() => location.replace(back && new URL(back).origin === location.origin ? back : '/'))
  }, [])
  return <div className="idp">Signing out…</div>
}
