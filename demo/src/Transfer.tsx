import { isAuthError } from '@spa-auth/core'
import { MOCK_STEP_UP_MAX_AGE } from '@spa-auth/mocks'
import { useAuthFetch, useStepUp } from '@spa-auth/react'
import { useCallback, useEffect, useState } from 'react'
import { apiBase, mocked } from './auth'
import { ConfirmBox, describeChallenge } from './ConfirmBox'
import { takeContinue, useSearch } from './navigation'
import { log } from './timeline'

const PATH = '/api/transfer'
/** Where "Confirm it's you" comes back to: this page, told to finish the transfer. */
const RETURN_TO = '/?continue=transfer'

/** The transfer: a POST through the SDK that reports the API's step-up challenge as it comes. */
function useTransfer() {
  const authFetch = useAuthFetch()
  const stepUp = useStepUp()
  const { run } = stepUp
  const [outcome, setOutcome] = useState<{ done: boolean; text: string }>()
  const [busy, setBusy] = useState(false)

  const post = useCallback(async () => {
    try {
      return await authFetch(`${apiBase}${PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 100, currency: 'EUR', to: 'savings' }),
      })
    } catch (error) {
      if (isAuthError(error, 'step_up_required')) {
        log(
          'warn',
          `POST ${PATH} → 401: the API asks for a stronger sign-in`,
          `insufficient_user_authentication (${describeChallenge(error.challenge ?? {})}); no refresh can give that`,
        )
      }
      throw error
    }
  }, [authFetch])

  const transfer = useCallback(async () => {
    setBusy(true)
    setOutcome(undefined)
    try {
      const response = await run(post)
      if (!response) return
      const receipt = (await response.json().catch(() => ({}))) as { id?: string; acr?: string }
      const done = response.ok
      setOutcome({
        done,
        text: done
          ? `Transfer done: €100 to savings (${receipt.id})`
          : `Transfer refused: ${response.status}`,
      })
      log(
        done ? 'ok' : 'error',
        done ? 'Transfer done: €100 to savings' : `POST ${PATH} → ${response.status}`,
        done ? `receipt ${receipt.id}, signed in with ${receipt.acr}` : undefined,
      )
    } catch (error) {
      setOutcome({ done: false, text: `Transfer failed: ${(error as Error).message}` })
      log('error', `POST ${PATH} failed`, (error as Error).message)
    } finally {
      setBusy(false)
    }
  }, [run, post])

  return { ...stepUp, transfer, outcome, setOutcome, busy }
}

function Transfer() {
  const { challenge, confirm, dismiss, transfer, outcome, setOutcome, busy } = useTransfer()
  const search = useSearch()

  // Back from "Confirm it's you", signed in as the API asked: finish what the user started.
  useEffect(() => {
    if (search.includes('continue=') && takeContinue('transfer')) void transfer()
  }, [search, transfer])

  const onConfirm = () => {
    log(
      'info',
      'Confirming it’s you',
      `signing in again with ${describeChallenge(challenge ?? {})}`,
    )
    confirm({ returnTo: RETURN_TO }).catch((error: Error) => {
      setOutcome({ done: false, text: `Could not start the sign-in: ${error.message}` })
      log('error', 'Step-up sign-in failed to start', error.message)
    })
  }
  // In the click handler itself: a popup opened after an await is blocked.
  const onConfirmInPopup = () => {
    log('info', 'Confirming it’s you in a popup', describeChallenge(challenge ?? {}))
    confirm({ popup: true })
      .then(() => transfer())
      .catch((error: Error) => {
        setOutcome({ done: false, text: `Step-up in the popup failed: ${error.message}` })
        log('error', 'Step-up in a popup failed', error.message)
      })
  }
  const onCancel = () => {
    dismiss()
    setOutcome({ done: false, text: 'Transfer cancelled' })
    log('info', 'Transfer cancelled', 'the user declined the second factor')
  }

  return (
    <>
      <p className="muted small lead-in">
        The API moves money only for a sign-in with a second factor within the last{' '}
        {MOCK_STEP_UP_MAX_AGE / 60} minutes. Otherwise it answers 401 with a step-up challenge (RFC
        9470), which no token refresh can meet: you confirm it’s you at the provider, and the
        transfer carries on when you are back.
      </p>
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={busy || Boolean(challenge)}
          onClick={transfer}
        >
          Transfer €100 (needs a second factor)
        </button>
      </div>
      {challenge && (
        <ConfirmBox
          challenge={challenge}
          onConfirm={onConfirm}
          onConfirmInPopup={onConfirmInPopup}
          onCancel={onCancel}
        />
      )}
      {outcome && !challenge && (
        <p className={outcome.done ? 'result ok' : 'result'} data-testid="transfer-result">
          {outcome.text}
        </p>
      )}
    </>
  )
}

/**
 * A sensitive action: the API moves money only for a recent sign-in with a second factor, and
 * says so with a step-up challenge (RFC 9470) that the user answers by signing in again.
 */
export function TransferCard() {
  return (
    <section className="card span-2">
      <h2>Sensitive action</h2>
      {!mocked ? (
        <p className="muted" data-testid="transfer-unavailable">
          The API of this mode has no <code>{PATH}</code>: run <code>pnpm demo</code> to see a
          step-up.
        </p>
      ) : (
        <Transfer />
      )}
    </section>
  )
}
