import type { Answers, Request } from '../protocol.js'
import type { Engine } from './engine.js'

/** Carries out one request of a page on `engine`. */
export async function dispatch<R extends Request>(
  engine: Engine,
  request: R,
): Promise<Answers[R['type']]> {
  const answer = await (() => {
    switch (request.type) {
      case 'hello':
        return engine.hello()
      case 'token':
        return engine.token(request.reason, request.stale, request.api)
      case 'check':
        return engine.check()
      case 'authorize':
        return engine.authorize(request.params)
      case 'callback':
        return engine.callback(request.url, request.transaction ?? undefined)
      case 'logout':
        return engine.logout(request)
    }
  })()
  return answer as Answers[R['type']]
}
