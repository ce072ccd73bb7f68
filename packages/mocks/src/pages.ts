import type { MockAnswer, MockProvider } from './provider.js'
import { requestedAuth } from './stepup.js'

/** An element with its class, text and children: enough for two small pages. */
function el(tag: string, className: string, ...children: Array<Node | string>): HTMLElement {
  const node = document.createElement(tag)
  if (className) node.className = className
  node.append(...children)
  return node
}

function button(label: string, type: 'button' | 'submit', className = ''): HTMLButtonElement {
  const node = el('button', className, label) as HTMLButtonElement
  node.type = type
  return node
}

/** One of the provider's cards: its brand, a title, the body, Cancel and `submit`, fine print. */
function card(title: string, body: Array<Node | string>, submit: string, fine: string) {
  return el(
    'form',
    'idp-card',
    el('div', 'idp-brand', 'Mock Identity Provider'),
    el('h1', '', title),
    ...body,
    el('div', 'row', button('Cancel', 'button'), button(submit, 'submit', 'primary')),
    el('p', 'fine', fine),
  )
}

/** Options of {@link showProviderPage}. */
export interface ProviderPageOptions {
  /** Where to render. Default: `document.body`. */
  root?: HTMLElement
  /** How the page goes back to the app once answered. Default: `location.replace`. */
  navigate?: (url: string) => void
}

type Answer = (user: MockAnswer) => Promise<void>

/**
 * The first step: a user to choose (whoever the provider's session names, as a real provider
 * keeps the user who comes back for a second factor), Continue or Cancel.
 */
function chooseUser(provider: MockProvider, params: URLSearchParams, next: (sub: string) => void) {
  const chosen = provider.sessionUser ?? Object.keys(provider.users)[0]
  const users = Object.entries(provider.users).map(([sub, user]) => {
    const input = document.createElement('input')
    Object.assign(input, { type: 'radio', name: 'user', value: sub, checked: sub === chosen })
    return el('label', 'idp-user', input, ` ${user.name} `, el('span', 'muted', user.email))
  })
  const form = card(
    'Sign in',
    [
      el('p', 'muted', 'to continue to ', el('strong', '', params.get('client_id') ?? '')),
      ...users,
    ],
    'Continue',
    'PKCE S256 required · codes single-use · refresh tokens rotate with reuse detection',
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    next(form.querySelector<HTMLInputElement>('input[name=user]:checked')?.value ?? '')
  })
  return form
}

/** The second step, when the app asks for `MOCK_MFA_ACR`: any six digits pass. */
function secondFactor(answer: Answer, sub: string) {
  const code = document.createElement('input')
  code.name = 'otp'
  code.setAttribute('inputmode', 'numeric')
  code.setAttribute('autocomplete', 'one-time-code')
  const problem = el('p', 'muted')
  problem.setAttribute('role', 'alert')
  const form = card(
    'Two-step verification',
    [el('label', '', 'Enter the code from your authenticator', code), problem],
    'Verify',
    'Any 6 digits will do',
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    if (/^\d{6}$/.test(code.value.trim())) void answer({ sub, mfa: true })
    else problem.textContent = 'Enter the 6 digits your authenticator shows'
  })
  return form
}

/**
 * The sign-in page: a user to choose, then a second factor when `acr_values` asks for
 * `MOCK_MFA_ACR`; Cancel refuses. `prompt=none` is answered at once.
 */
function signInPage(provider: MockProvider, root: HTMLElement, navigate: (url: string) => void) {
  const params = new URLSearchParams(location.search)
  const answer: Answer = async (user) => {
    for (const b of root.querySelectorAll('button')) b.disabled = true
    navigate(await provider.authorize(location.href, user))
  }
  const show = (card: HTMLElement) => {
    card.querySelector('button[type=button]')?.addEventListener('click', () => {
      void answer({ deny: true })
    })
    root.replaceChildren(el('div', 'idp', card))
  }
  const { mfa } = requestedAuth(params)
  // Read the shared database first: the session may be another realm's.
  void provider.sync().then(() =>
    show(
      chooseUser(provider, params, (sub) => {
        if (mfa) show(secondFactor(answer, sub))
        else void answer({ sub })
      }),
    ),
  )
  // prompt=none: the provider's session or `login_required`, at once, unless told to play a
  // provider that ignores it and shows its form.
  if (params.get('prompt') === 'none') {
    void provider.sync().then(() => {
      // This realm's fault first, as the provider's handlers read theirs.
      const promptNone = provider.faults.promptNone ?? provider.sharedFaults.promptNone
      if (promptNone !== 'form') void answer({})
    })
  }
}

/** The end-session page: forgets the provider's session, then goes back to the app. */
function signOutPage(provider: MockProvider, root: HTMLElement, navigate: (url: string) => void) {
  root.replaceChildren(el('div', 'idp', 'Signing out…'))
  const back = new URLSearchParams(location.search).get('post_logout_redirect_uri')
  const sameOrigin = back !== null && URL.canParse(back) && new URL(back).origin === location.origin
  void provider.endSession().then(() => navigate(sameOrigin ? back : '/'))
}

/**
 * Shows the mock provider's own page when this page is one: the sign-in page at
 * `${issuer}/authorize` and the end-session page at `${issuer}/logout`, for an issuer on the
 * app's origin (the app's server answers those paths with the app, as it does any route).
 * Returns true then: render nothing else, and start no auth client, on such a page. Start the
 * mocks (`startMockProvider()`) on these pages too: MSW's service worker unregisters itself when
 * the last page that started it is gone.
 *
 * When the app asks for `MOCK_MFA_ACR` (`acr_values`), the sign-in page asks for a second factor
 * after the user: a field labelled "Enter the code from your authenticator" (any six digits) and
 * a Verify button.
 *
 * The pages carry the class names `idp`, `idp-card`, `idp-brand`, `idp-user`, `muted`, `row`,
 * `primary` and `fine` for an app's stylesheet.
 */
export function showProviderPage(
  provider: MockProvider,
  { root = document.body, navigate = (url) => location.replace(url) }: ProviderPageOptions = {},
): boolean {
  const here = location.origin + location.pathname
  const { authorization_endpoint: signIn, end_session_endpoint: signOut } = provider.metadata
  if (here === signIn) signInPage(provider, root, navigate)
  else if (here === signOut) signOutPage(provider, root, navigate)
  else return false
  return true
}
