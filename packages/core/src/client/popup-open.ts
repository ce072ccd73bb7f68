// The sign-in popup, opened in the user's gesture: the one part of a popup sign-in that cannot
// wait for a module to load. Shared by both modes.
import type { PopupOptions } from '../types.js'

/**
 * In a popup's `sessionStorage` only (`POPUP_MARK` of popup.ts, written out here so that the page
 * does not split that module off): a popup starts with a copy of its opener's, which holds it
 * while `open()` runs, and keeps it whatever its provider's opener policy.
 */
const POPUP_MARK = 'spa-auth:popup'

/**
 * Opens the sign-in popup, blank, in the caller's user gesture (nothing may be awaited before);
 * undefined when the browser refuses. One name: a second sign-in reuses the first one's window.
 */
export function openPopup({ width = 500, height = 650 }: PopupOptions = {}): Window | undefined {
  const storage = globalThis.sessionStorage
  try {
    storage?.setItem(POPUP_MARK, '1')
    const popup = globalThis.open?.('', 'spa-auth:popup', `popup,width=${width},height=${height}`)
    return popup && !popup.closed ? popup : undefined
  } finally {
    storage?.removeItem(POPUP_MARK)
  }
}
