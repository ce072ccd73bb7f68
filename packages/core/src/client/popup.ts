// The sign-in popup, watched from the page that opened it until it answers, is closed, or takes
// too long; and the channel its answer comes back on. Loaded with the sign-in flows.
import type { Clock } from '../clock.js'

/** How a popup sign-in ended without an answer: the caller makes the `AuthError` of it. */
export interface PopupEnd {
  code: 'popup_closed' | 'timeout'
  message: string
}

/** Set in a sign-in popup's `sessionStorage` by `openPopup()` (popup-open.ts, which spells it out). */
export const POPUP_MARK = 'spa-auth:popup'

/** What a popup that did not open is told. */
export const BLOCKED =
  'Popup sign-in: the browser did not open the popup (call it in a click handler, before any await)'

/**
 * Watches `popup` until `stop()`: resolves to `popup_closed` within half a second of the user closing
 * it (its callback page posts its answer before it closes itself), or to `timeout` after `ms`. A popup on a page that
 * sends `Cross-Origin-Opener-Policy` is cut off from this page as it gets there, and looks
 * closed while it still has a sign-in to show: one that looks closed before it was ever seen past
 * its blank first page is waited for until the timeout.
 */
export function watchPopup(popup: Window, ms: number, clock: Clock) {
  let handle: unknown
  let stopped = false
  const ended = new Promise<PopupEnd>((resolve) => {
    const deadline = clock.now() + ms
    let seenElsewhere = false
    let closedSince: number | undefined
    const tick = () => {
      if (stopped) return
      const now = clock.now()
      if (!popup.closed) {
        try {
          // Past its first, blank page (an exception: on another origin) and still in view.
          if (popup.location.href !== 'about:blank') seenElsewhere = true
        } catch {
          seenElsewhere = true
        }
      } else closedSince ??= now
      if (seenElsewhere && closedSince !== undefined && now - closedSince >= 400)
        return resolve({ code: 'popup_closed', message: 'Popup sign-in: the popup was closed' })
      if (now >= deadline) {
        const cut = closedSince !== undefined && !seenElsewhere
        const why = cut
          ? ' (its provider page cut it off from this page: Cross-Origin-Opener-Policy)'
          : ''
        const message = `Popup sign-in: no answer within ${Math.round(ms / 1000)} s${why}`
        return resolve({ code: 'timeout', message })
      }
      handle = clock.setTimeout(tick, 200)
    }
    handle = clock.setTimeout(tick, 200)
  })
  return {
    ended,
    stop() {
      stopped = true
      clock.clearTimeout(handle)
    },
  }
}

/** The channel a popup's callback page hands its answer to the page that opened it on. */
export const popupChannel = (key: string) => new BroadcastChannel(`spa-auth:popup:${key}`)
