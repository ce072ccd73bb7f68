// The sign-in in BFF mode, loaded when one starts: a navigation to the BFF's `login`, or a popup
// that goes there and lands on its `popup-done` page, which tells this page (on the BFF's
// channel) and closes. What it needs of the client comes in through `host`, not by import, so
// that no module of the page is split off into a chunk of its own.

import { BLOCKED, watchPopup } from '../client/popup.js'
import { sameOriginPath } from '../client/return-to.js'
import type { SessionStore } from '../client/session.js'
import type { Clock } from '../clock.js'
import type { AuthError, AuthErrorCode } from '../errors.js'
import type { LoginOptions } from '../types.js'

/** What a sign-in needs of the client. */
export interface LoginHost {
  prefix: string
  store: SessionStore
  navigate(url: string): void
  /** Asks the BFF for the session. */
  check(): Promise<void>
  /** Tells the other tabs that there is a session to ask for. */
  announce(): void
  AuthError: new (code: AuthErrorCode, message: string) => AuthError
}

const clock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** The BFF's sign-in URL's query: `returnTo` as a path, and what it passes on to the provider. */
function loginQuery(host: LoginHost, login: LoginOptions): URLSearchParams {
  const { returnTo, prompt, loginHint, acrValues, maxAge, uiLocales, extraParams } = login
  const refuse = (why: string) => {
    throw new host.AuthError('invalid_options', `login(): ${why}`)
  }
  if (extraParams && Object.keys(extraParams).length) refuse('set `extraParams` on createBff()')
  if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && maxAge >= 0))
    refuse('`maxAge` must be whole seconds')
  const path = typeof returnTo === 'string' ? sameOriginPath(returnTo) : '/'
  if (returnTo !== undefined && path === undefined)
    refuse(
      `\`returnTo\` must be a path on this origin (like "/orders"), got ${JSON.stringify(returnTo)}`,
    )
  const query = new URLSearchParams({ returnTo: path ?? '/' })
  const chosen = { prompt, login_hint: loginHint, acr_values: acrValues, ui_locales: uiLocales }
  for (const [name, value] of Object.entries({ ...chosen, max_age: maxAge?.toString() })) {
    if (value !== undefined) query.set(name, value)
  }
  return query
}

/** Sends the browser to the BFF's sign-in. */
export function signIn(host: LoginHost, login: LoginOptions): void {
  host.navigate(`${host.prefix}/login?${loginQuery(host, login)}`)
}

/**
 * Sends `popup` (opened already, in the user's gesture) through the BFF's sign-in, waits for its
 * `popup-done` page to say so, then asks the BFF for the session.
 *
 * @throws {AuthError} `popup_blocked`, `popup_closed`, `timeout`, `invalid_options`, or the
 *   sign-in's own failure.
 */
export async function popupSignIn(
  host: LoginHost,
  popup: Window | undefined,
  login: LoginOptions,
  ms = 300_000,
): Promise<void> {
  if (!popup) throw new host.AuthError('popup_blocked', BLOCKED)
  const id = Math.random().toString(36).slice(2)
  const channel = new BroadcastChannel(`spa-auth:bff:${host.prefix}`)
  const watch = watchPopup(popup, ms, clock)
  try {
    const query = loginQuery(host, login)
    query.set('returnTo', `${host.prefix}/popup-done?popup=${id}`)
    const done = new Promise<void>((resolve) => {
      channel.onmessage = ({ data }) => {
        if (data?.v === 1 && data.type === 'popup-done' && data.popup === id) resolve()
      }
    })
    popup.location.href = `${host.prefix}/login?${query}`
    const ended = watch.ended.then(({ code, message }) =>
      Promise.reject(new host.AuthError(code, message)),
    )
    await Promise.race([done, ended])
    // This page asks first, and so is the one told of a failed sign-in (said once); then the
    // other tabs hear of the new session.
    await host.check()
    const { status, error } = host.store.getState()
    if (status !== 'authenticated')
      throw error ?? new host.AuthError('login_required', 'Popup sign-in: no session after it')
    host.announce()
  } catch (error) {
    if (!popup.closed) popup.close()
    throw error
  } finally {
    watch.stop()
    channel.close()
  }
}
