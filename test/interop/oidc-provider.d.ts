// oidc-provider ships no types (and @types/oidc-provider lags its major versions): the small part
// of its surface the interop tests use, typed loosely on purpose.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  /** The request context oidc-provider hands to middleware and configuration functions. */
  export interface KoaContext {
    method: string
    path: string
    status: number
    body: unknown
    get(header: string): string
    oidc?: { route?: string; params?: Record<string, unknown> }
  }

  export interface ClientView {
    clientId: string
    grantTypeAllowed(grant: string): boolean
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>)
    readonly issuer: string
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): this
    on(event: string, listener: (...args: unknown[]) => void): this
  }
  export default Provider
}
