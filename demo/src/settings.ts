/// <reference types="vite/client" />

// The demo's own choice, not a secret: whether to ask for DPoP. Kept across reloads because a
// client's options are fixed when it is made.
const KEY = 'demo:dpop'

/**
 * Whether the demo's client binds its tokens to this browser (DPoP, RFC 9449): `VITE_DPOP=true`
 * in real mode, where the provider decides; else the switch's last position.
 */
export function dpopChosen(real: boolean): boolean {
  if (real) return import.meta.env.VITE_DPOP === 'true'
  try {
    return localStorage.getItem(KEY) === 'on'
  } catch {
    return false
  }
}

/** Remembers the switch's position for the next client, made at the next page load. */
export function chooseDpop(on: boolean): void {
  if (on) localStorage.setItem(KEY, 'on')
  else localStorage.removeItem(KEY)
}
