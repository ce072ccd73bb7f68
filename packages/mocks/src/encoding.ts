const enc = new TextEncoder()

/** Bytes as base64url without padding (RFC 7515 §2). */
export function b64url(bytes: ArrayBuffer | Uint8Array): string {
  let text = ''
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** The base64url SHA-256 of a string: PKCE's S256, DPoP's `ath`, the refresh tokens' keys. */
export async function sha256(value: string): Promise<string> {
  return b64url(await crypto.subtle.digest('SHA-256', enc.encode(value)))
}

/** 24 random bytes as base64url: codes, refresh tokens, `jti`s, nonces. */
export function random(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(24)))
}
