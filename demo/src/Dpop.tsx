import { useAuth } from '@spa-auth/react'
import { useEffect, useState } from 'react'
import { bffPrefix, dpop, mocked } from './auth'
import { idp, setSharedFault } from './mock-idp'
import { chooseDpop } from './settings'
import { log } from './timeline'

function switchNote(leaving: boolean, signedIn: boolean): string {
  if (!mocked) {
    return `Set when the demo is built (VITE_DPOP=${dpop}); the provider must support DPoP.`
  }
  if (leaving) return 'Switching…'
  if (signedIn) return 'Switching signs you out: the client is made again with the other setting.'
  return 'A stolen token is useless without this browser’s key, which cannot be exported.'
}

/**
 * The DPoP switch. A client's options are fixed when it is made, so the choice is remembered
 * and the page loaded again; a signed-in user is signed out first, as the session belongs to the
 * client (and the token worker) of the other setting.
 */
function DpopSwitch() {
  const { status, logout } = useAuth()
  // The switch moves at once; the client of the other setting comes with the next page.
  const [leaving, setLeaving] = useState(false)
  const signedIn = status === 'authenticated'

  const flip = async () => {
    chooseDpop(!dpop)
    setLeaving(true)
    if (!signedIn) return location.reload()
    log(
      'info',
      `DPoP ${dpop ? 'off' : 'on'}: signing out`,
      'the next sign-in uses the other setting',
    )
    await logout({ returnTo: '/' }).catch(() => location.reload())
  }

  return (
    <div className="setting">
      <label className="switch">
        <input
          type="checkbox"
          checked={leaving ? !dpop : dpop}
          disabled={leaving || !mocked}
          onChange={flip}
        />
        Bind tokens to this browser (DPoP)
      </label>
      <p className="muted small">{switchNote(leaving, signedIn)}</p>
    </div>
  )
}

/** The mock's `dpopNonce` fault, for the token endpoint and the API, every realm alike. */
function NonceSwitch() {
  const [on, setOn] = useState(false)

  // The fault lives with the mock provider's database, which a reload keeps.
  useEffect(() => {
    void idp.sync().then(() => setOn(Boolean(idp.sharedFaults.dpopNonce)))
  }, [])

  const flip = async () => {
    setOn(!on)
    await setSharedFault('dpopNonce', on ? undefined : true)
    log(
      'info',
      on ? 'Servers no longer ask for DPoP nonces' : 'Servers now ask for DPoP nonces',
      on ? undefined : 'the token endpoint and the API each want a proof with their own nonce',
    )
  }

  return (
    <div className="setting">
      <label className="switch">
        <input type="checkbox" checked={on} disabled={!dpop} onChange={flip} />
        Server nonces
      </label>
      <p className="muted small">
        {dpop
          ? 'A proof without the server’s fresh nonce is refused once (use_dpop_nonce), then sent again with it.'
          : 'Needs DPoP.'}
      </p>
    </div>
  )
}

/** Both switches: before sign-in, and in the signed-in screen. */
export function DpopSettings() {
  // Through a BFF the browser holds no token, so there is nothing of its own to bind.
  if (bffPrefix) return null
  return (
    <div className="settings">
      <DpopSwitch />
      {mocked && <NonceSwitch />}
    </div>
  )
}

/** The thumbprint of the key the mock provider bound the tokens to, from its own records. */
function useBoundKey(): string | undefined {
  const [jkt, setJkt] = useState<string>()
  useEffect(() => {
    if (!mocked || !dpop) return
    void idp.sync().then(() => {
      const taken = idp.dpopProofs.filter((p) => p.server === 'token' && p.accepted && p.jkt)
      setJkt(taken.at(-1)?.jkt)
    })
  }, [])
  return jkt
}

/** The card of the signed-in screen: the switches, and the key the tokens are bound to. */
export function DpopCard() {
  const jkt = useBoundKey()
  if (bffPrefix) return null
  return (
    <section className="card">
      <h2>Proof of possession</h2>
      <DpopSettings />
      {jkt && (
        <p className="muted small" data-testid="jkt">
          Bound to key <code title={jkt}>{jkt.slice(0, 16)}…</code> (its thumbprint, as the provider
          recorded it)
        </p>
      )}
    </section>
  )
}
