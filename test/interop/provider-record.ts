import type { KoaContext, Provider } from 'oidc-provider'

/** One request the provider answered. */
export interface ProviderRequest {
  method: string
  path: string
  /** The `grant_type` of a token request. */
  grantType: string | undefined
  /** The `Origin` header: set by the browser on the app's calls, absent on the tests' own. */
  origin: string | undefined
  status: number
  /** The OAuth `error` of an error answer, e.g. `use_dpop_nonce`. */
  error: string | undefined
  /**
   * Why a token request was refused, beyond the answer's generic description: oidc-provider's
   * `error_detail`, e.g. `failed jkt verification`.
   */
  errorDetail: string | undefined
  /** Whether the request carried a `DPoP` proof header (RFC 9449 §4). */
  dpopProof: boolean
  /** The `dpop_jkt` parameter of an authorization request (RFC 9449 §10). */
  dpopJkt: string | undefined
  /** The `resource` parameters of the request (RFC 8707). */
  resources: string[]
}

/** A token-endpoint answer, as the provider sent it (learned outside any browser). */
export interface TokenAnswer {
  grantType: string | undefined
  status: number
  /** `DPoP` for a sender-constrained access token, `Bearer` otherwise. */
  tokenType: string | undefined
  accessToken: string | undefined
  refreshToken: string | undefined
  idToken: string | undefined
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined)

interface AnswerBody {
  error?: unknown
  token_type?: unknown
  access_token?: unknown
  refresh_token?: unknown
  id_token?: unknown
}

// oidc-provider hands the detail to its `grant.error` listeners only, before the recorder's turn.
const details = new WeakMap<object, string>()

/** Keeps the `error_detail` of every refused token request for {@link recorder}. */
export function keepErrorDetails(provider: Provider): void {
  provider.on('grant.error', (ctx, error) => {
    const detail = (error as { error_detail?: unknown }).error_detail
    if (typeof detail === 'string') details.set(ctx as object, detail)
  })
}

/**
 * A middleware that records every request with the status it got, and every token-endpoint
 * answer with the tokens in it: the tests replay those from Node.
 */
export function recorder(requests: ProviderRequest[], tokenAnswers: TokenAnswer[]) {
  return async (ctx: KoaContext, next: () => Promise<void>) => {
    try {
      await next()
    } finally {
      const params = ctx.oidc?.params ?? {}
      const grantType = text(params.grant_type)
      // An HTML error page (a browser navigation) has no JSON body to read a code from.
      const body = (typeof ctx.body === 'object' && ctx.body ? ctx.body : {}) as AnswerBody
      requests.push({
        method: ctx.method,
        path: ctx.path,
        grantType,
        origin: ctx.get('origin') || undefined,
        status: ctx.status,
        error: text(body.error),
        errorDetail: details.get(ctx),
        dpopProof: ctx.get('dpop') !== '',
        dpopJkt: text(params.dpop_jkt),
        resources: ([] as unknown[]).concat(params.resource ?? []).map(String),
      })
      if (ctx.method === 'POST' && ctx.path === '/token') {
        tokenAnswers.push({
          grantType,
          status: ctx.status,
          tokenType: text(body.token_type),
          accessToken: text(body.access_token),
          refreshToken: text(body.refresh_token),
          idToken: text(body.id_token),
        })
      }
    }
  }
}
