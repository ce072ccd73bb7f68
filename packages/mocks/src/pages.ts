import type { MockAnswer, MockProvider } from './provider.js'

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

/** Options of {@link showProviderPage}. */
export interface ProviderPageOptions {
  /** Where to render. Default: `document.body`. */
  root?: HTMLElement
}

/** The sign-in page: a user to choose, Continue or Cancel; `prompt=none` answered at once. */
function signInPage(provider: MockProvider, root: HTMLElement): void {
  const params = new URLSearchParams(location.search)
  const answer = async (user: MockAnswer) => {
    for (const b of root.querySelectorAll('button')) b.disabled = true
    location.replace(await provider.authorize(location.href, user))
  }
  const users = Object.entries(provider.users).map(([sub, user], i) => {
    const input = document.createElement('input')
    Object.assign(input, { type: 'radio', name: 'user', value: sub, checked: i === 0 })
    return el('label', 'idp-user', input, ` ${user.name} `, el('span', 'muted', user.email))
  })
  const cancel = button('Cancel', 'button')
  cancel.addEventListener('click', () => void answer({ deny: true }))
  const form = el(
    'form',
    'idp-card',
    el('div', 'idp-brand', 'Mock Identity Provider'),
    el('h1', '', 'Sign in'),
    el('p', 'muted', 'to continue to ', el('strong', '', params.get('client_id') ?? '')),
    ...users,
    el('div', 'row', cancel, button('Continue', 'submit', 'primary')),
    el(
      'p',
      'fine',
      'PKCE S256 required · codes single-use · refresh tokens rotate with reuse detection',
    ),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    void answer({ sub: String(new FormData(form as HTMLFormElement).get('user')) })
  })
  root.replaceChildren(el('div', 'idp', form))
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
function signOutPage(provider: MockProvider, root: HTMLElement): void {
  root.replaceChildren(el('div', 'idp', 'Signing out…'))
  const back = new URLSearchParams(location.search).get('post_logout_redirect_uri')
  const sameOrigin = back !== null && URL.canParse(back) && new URL(back).origin === location.origin
  void provider.endSession().then(() => location.replace(sameOrigin ? back : '/'))
}

/**
 * Shows the mock provider's own page when this page is one: the sign-in page at
 * `${issuer}/authorize` and the end-session page at `${issuer}/logout`, for an issuer on the
 * app's origin (the app's server answers those paths with the app, as it does any route).
 * Returns true then: render nothing else, and start no auth client, on such a page. Start the
 * mocks (`startMockProvider()`) on these pages too: MSW's service worker unregisters itself when
 * the last page that started it is gone.
 *
 * The pages carry the class names `idp`, `idp-card`, `idp-brand`, `idp-user`, `muted`, `row`,
 * `primary` and `fine` for an app's stylesheet.
 */
export function showProviderPage(
  provider: MockProvider,
  { root = document.body }: ProviderPageOptions = {},
): boolean {
  const here = location.origin + location.pathname
  const { authorization_endpoint: signIn, end_session_endpoint: signOut } = provider.metadata
  if (here === signIn) signInPage(provider, root)
  else if (here === signOut) signOutPage(provider, root)
  else return false
  return true
}
