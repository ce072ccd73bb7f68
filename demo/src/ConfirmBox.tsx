import type { StepUpChallenge } from '@spa-auth/core'
import { MOCK_MFA_ACR } from '@spa-auth/mocks'

/** What the API's `acr_values` mean, in words, for the ones this demo knows. */
const ACR_NAMES: Record<string, string> = { [MOCK_MFA_ACR]: 'a sign-in with a second factor' }

const ago = (seconds: number) =>
  seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`

/** The challenge as the API wrote it: `acr_values=…, max_age=…`. */
export function describeChallenge({ acrValues, maxAge }: StepUpChallenge): string {
  const parts = [
    acrValues && `acr_values=${acrValues}`,
    maxAge !== undefined && `max_age=${maxAge}`,
  ].filter(Boolean)
  return parts.join(', ') || 'no parameters'
}

/** "Confirm it's you": what the API asked for, and the way to give it, or to decline. */
export function ConfirmBox({
  challenge,
  onConfirm,
  onConfirmInPopup,
  onCancel,
}: {
  challenge: StepUpChallenge
  onConfirm: () => void
  /** The same in a popup: this page, and its form, stay as they are. */
  onConfirmInPopup: () => void
  onCancel: () => void
}) {
  const { acrValues, maxAge } = challenge
  return (
    <section className="stepup" aria-labelledby="step-up-title" data-testid="step-up">
      <h3 id="step-up-title">Confirm it’s you</h3>
      <p>The API wants a stronger sign-in before it moves money:</p>
      <dl className="claims">
        <dt>acr_values</dt>
        <dd>
          <code>{acrValues ?? 'any'}</code>
          {acrValues && ACR_NAMES[acrValues] && (
            <span className="muted"> — {ACR_NAMES[acrValues]}</span>
          )}
        </dd>
        <dt>max_age</dt>
        <dd>
          {maxAge === undefined ? 'any' : `${maxAge} s`}
          {maxAge !== undefined && (
            <span className="muted"> — signed in within the last {ago(maxAge)}</span>
          )}
        </dd>
      </dl>
      <p className="muted small">
        Refreshing the token cannot give this: you sign in again at the provider, then come back
        here and the transfer goes through.
      </p>
      <div className="row">
        <button type="button" className="primary" onClick={onConfirm}>
          Confirm it’s you
        </button>
        <button type="button" onClick={onConfirmInPopup}>
          Confirm in a popup
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </section>
  )
}
