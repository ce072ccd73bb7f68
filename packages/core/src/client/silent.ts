// The silent sign-in: a hidden frame, or a top-level redirect tried once per tab.

import { AuthError } from '../errors.js'
import { sleep } from '../wait.js'
import type { ResolvedOptions } from './options.js'

// Where a tab notes that it tried a silent redirect (sessionStorage): never twice, never a loop.
const TRIED_KEY = 'spa-auth:silent-tried'

// After the frame loads a page that is not the callback, how long a redirect onwards may take
// before that page counts as the answer (a sign-in form, a refusal to be framed).
const SETTLE_MS = 600

/** The frame's address, readable only once it is back on our origin. */
function frameUrl(frame: HTMLIFrameElement): string | undefined {
  try {
    const href = frame.contentWindow?.location.href
    return href && href !== 'about:blank' ? href : undefined
  } catch {
    return undefined
  }
}

/**
 * Loads `url` (an authorization request with `prompt=none`) in a hidden iframe and resolves to
 * the callback URL the provider sent the frame back to. A frame that settles anywhere else (the
 * provider's sign-in form, an error page, a refusal to be framed) is an answer too: no session.
 *
 * @throws {AuthError} `login_required` when the frame settles elsewhere; `timeout` when it does
 *   not settle within `ms`.
 */
export async function silentFrame(
  url: string,
  options: Pick<ResolvedOptions, 'clock' | 'isCallback' | 'restore'>,
): Promise<string> {
  const { clock, isCallback } = options
  const { silentTimeout: ms, frameName } = options.restore
  const frame = document.createElement('iframe')
  let loads = 0
  let loadedAt = Number.POSITIVE_INFINITY
  frame.addEventListener('load', () => {
    // The frame's first, empty document is not an answer; a page of another origin is.
    let href: string | undefined
    try {
      href = frame.contentWindow?.location.href
    } catch {}
    if (href === 'about:blank') return
    loads += 1
    loadedAt = clock.now()
  })
  frame.hidden = true
  frame.setAttribute('aria-hidden', 'true')
  frame.title = 'silent sign-in'
  frame.name = frameName
  frame.src = url
  document.body.append(frame)
  try {
    for (const deadline = clock.now() + ms; clock.now() < deadline; ) {
      await sleep(clock, 50)
      const href = frameUrl(frame)
      if (href && isCallback(new URL(href))) return href
      if (loads > 0 && clock.now() - loadedAt >= SETTLE_MS) {
        throw new AuthError(
          'authorization_error',
          'Silent sign-in: the provider answered with a page, not a redirect back',
          { oauthError: 'login_required' },
        )
      }
    }
    throw new AuthError('timeout', `Silent sign-in: the provider did not answer within ${ms} ms`)
  } finally {
    frame.remove()
  }
}

/** OAuth errors that only mean "no session at the provider": no failure to show. */
export const NO_PROVIDER_SESSION = new Set([
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
])

/** Whether a silent redirect was already tried in this tab (so it never loops); marks it tried. */
export function silentRedirectTried(storage: Pick<Storage, 'getItem' | 'setItem'>): boolean {
  if (storage.getItem(TRIED_KEY)) return true
  storage.setItem(TRIED_KEY, '1')
  return false
}

/** Whether this tab is coming back from a silent redirect. */
export function inSilentRedirect(storage: Pick<Storage, 'getItem'>): boolean {
  return storage.getItem(TRIED_KEY) !== null
}

/** Forgets the silent redirect attempt, after a sign-in or sign-out the user asked for. */
export function forgetSilentRedirect(storage: Pick<Storage, 'removeItem'>): void {
  storage.removeItem(TRIED_KEY)
}
