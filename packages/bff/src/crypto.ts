// WebCrypto only, so that the BFF runs on any JavaScript server, not Node alone.

const encoder = new TextEncoder()

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** 32 random bytes, base64url: a session id, a binding secret. */
export const randomId = () => base64url(crypto.getRandomValues(new Uint8Array(32)))

// Node's own hash where the runtime has it (Node, Bun, Deno): WebCrypto's digest is asynchronous,
// a trip through a thread pool for every request's session key.
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as typeof import('node:crypto') | undefined

/**
 * SHA-256 of `value`, base64url: what the store's keys are made of, so that a store's contents
 * (a dump, a replica) hold no session id a browser could present.
 */
export async function hash(value: string): Promise<string> {
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(value).digest('base64url')
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value))))
}

/** JSON as base64url, for a cookie's value. */
export const encodeCookieJson = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)))

/** The inverse of {@link encodeCookieJson}; `undefined` for anything else. */
export function decodeCookieJson(value: string): unknown {
  try {
    const binary = atob(value.replace(/-/g, '+').replace(/_/g, '/'))
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))))
  } catch {
    return undefined
  }
}
