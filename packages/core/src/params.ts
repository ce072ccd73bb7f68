// The bounds of the authorization request parameters a page may choose: the page checks them
// before it asks (so that `login()` and `stepUp()` fail at once), and the engine again. A module
// of its own: only the sign-in flows and the engine need it, not the page's first script.

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const fits = (v: unknown) => typeof v === 'string' && v.length <= PARAM_MAX
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v)

const PARAMS = ['prompt', 'loginHint', 'acrValues', 'uiLocales'] as const
/** The longest authorization request parameter a page may choose (and extra parameter name). */
export const PARAM_MAX = 2_048
/** The most extra authorization request parameters a page may add. */
export const EXTRA_PARAMS_MAX = 32

/**
 * The name of the authorization request parameter that is out of bounds, or undefined when none
 * is: strings of at most {@link PARAM_MAX} characters, at most {@link EXTRA_PARAMS_MAX} extra
 * ones, `maxAge` in whole seconds that survive a round trip through a string (no overflow).
 */
export function paramsProblem(p: unknown): string | undefined {
  if (!isObject(p)) return 'params'
  const extra = p.extraParams
  const entries = isObject(extra) ? Object.entries(extra) : []
  return (
    PARAMS.find((name) => !optional(p[name], fits)) ??
    (!optional(p.maxAge, (v) => Number.isSafeInteger(v) && (v as number) >= 0)
      ? 'maxAge'
      : !optional(p.silent, (v) => typeof v === 'boolean')
        ? 'silent'
        : extra !== undefined &&
            (!isObject(extra) ||
              entries.length > EXTRA_PARAMS_MAX ||
              !entries.every(([k, v]) => fits(k) && fits(v)))
          ? 'extraParams'
          : undefined)
  )
}
