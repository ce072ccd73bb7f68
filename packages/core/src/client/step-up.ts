// Step-up (RFC 9470): what an API asks for when the sign-in is not strong or recent enough.
import { AuthError, type StepUpChallenge } from '../errors.js'
import type { AuthClient, StepUpOptions } from './client.js'

/** A parameter of a `WWW-Authenticate` challenge, quoted or not. */
function param(challenge: string, name: string): string | undefined {
  const found = challenge.match(new RegExp(`(?:^|[\\s,])${name}=(?:"([^"]*)"|([^\\s,]*))`, 'i'))
  return found ? (found[1] ?? found[2]) : undefined
}

/**
 * The API asks for a stronger sign-in (RFC 9470): no refresh can give that, only a new sign-in
 * with the `acr_values` and `max_age` it names.
 */
export function stepUpRequired(href: string, header: string): AuthError {
  const challenge: StepUpChallenge = {}
  const acr = param(header, 'acr_values')
  const age = param(header, 'max_age')
  if (acr) challenge.acrValues = acr
  // Seconds, a whole number: anything else is no max_age.
  if (age && /^\d+$/.test(age)) challenge.maxAge = Number(age)
  return new AuthError(
    'step_up_required',
    `${new URL(href).origin} asks for a stronger sign-in (${JSON.stringify(challenge)}): call auth.stepUp(error.challenge)`,
    { challenge },
  )
}

/**
 * `auth.stepUp()` of both modes: a new sign-in with what the API asked for, in a popup when asked.
 * A challenge that names nothing still asks for a new sign-in, not the session as it is.
 */
export function signInAgain(
  client: Pick<AuthClient, 'login' | 'loginWithPopup'>,
  challenge: StepUpChallenge,
  { popup, ...login }: StepUpOptions = {},
): Promise<void> {
  const asked = {
    ...(challenge.acrValues || challenge.maxAge !== undefined ? {} : { prompt: 'login' }),
    ...login,
    ...challenge,
  }
  return popup
    ? client.loginWithPopup({ ...asked, popup: popup === true ? {} : popup })
    : client.login(asked)
}
