// The engine in the page itself: the fallback where no token worker can run, and the home of a
// custom token source (a function cannot travel to a worker). The page loads this module only
// when it needs it, so browsers with a token worker never download it.
import type { Broadcast, Request } from '../protocol.js'
import { type TokenJson, type TokenSource, tokensFromJson } from '../token-json.js'
import type { User } from '../types.js'
import { dispatch } from './dispatch.js'
import { createEngine, type EngineOptions } from './engine.js'
import { customRefresher } from './source.js'

/** Starts an engine in this page, telling `listener` every snapshot and event. */
export function startInPage(
  options: Omit<EngineOptions, 'refresher'> & { tokenSource?: TokenSource | undefined },
  listener: (message: Broadcast) => void,
) {
  const { tokenSource } = options
  const engine = createEngine({
    ...options,
    refresher: tokenSource && customRefresher(tokenSource),
  })
  engine.subscribe(listener)
  return {
    request: <R extends Request>(request: R) => dispatch(engine, request),
    /**
     * Starts a session from tokens the app's backend gave.
     *
     * @throws {AuthError} `invalid_response` when `json` has no access token.
     */
    adopt: (json: TokenJson, claims: User | undefined, at: number) =>
      engine.adopt(tokensFromJson(json, 'setTokens()'), claims, at),
    stop: engine.stop,
  }
}

/** An engine in the page. */
export type InPageEngine = ReturnType<typeof startInPage>
