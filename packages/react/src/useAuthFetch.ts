import { useAuthClient } from './context.js'

/**
 * The client's `fetch`: attaches the access token for the allowed origins, refreshes and replays
 * once after a 401. The same function on every render, so it is safe in effect dependencies.
 *
 * @throws {Error} outside an `<AuthProvider>`.
 */
export function useAuthFetch(): typeof fetch {
  return useAuthClient().fetch
}
