// Where an app may go after a sign-in: a path of this page's origin, nothing else. Imports
// nothing, so that both modes' sign-in chunks can share it without splitting the page.

/**
 * `returnTo` as a path of this page's origin (`/orders?page=2#top`), or undefined when it points
 * anywhere else (`//evil.example`, `https://evil.example`, `javascript:…`): an app that navigates
 * to it must not become an open redirect.
 */
export function sameOriginPath(returnTo: string): string | undefined {
  const here = globalThis.location
  if (!here?.href)
    return returnTo.startsWith('/') && !/^\/[/\\]/.test(returnTo) ? returnTo : undefined
  try {
    const url = new URL(returnTo, here.href)
    return url.origin === here.origin ? url.pathname + url.search + url.hash : undefined
  } catch {
    return undefined
  }
}
