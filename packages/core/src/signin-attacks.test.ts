// Group H of the catalogue, from H25 on: what a port tried against the engine's sign-ins and
// sign-outs, each a defect once.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { MockProvider } from '@spa-auth/mocks'
import { build } from 'esbuild'
import { http } from 'msw'
import { describe, expect, it } from 'vitest'
import type { FloodReport } from './flood-child.test-util.js'
import {
  APP,
  CLIENT_ID,
  ISSUER,
  issuedTokens,
  otherTab,
  rejection,
  server,
  setup,
  tokenRequests,
} from './harness.test-util.js'
import { ask, portWorker } from './port.test-util.js'
import { type Authorization, type Transaction, VERSION } from './protocol.js'

type Reply = { ok: boolean; error?: { code: string; message: string } }

let ids = 1_000

/** Sends a callback on `port` as a page's script can, and resolves with the engine's answer. */
function forge(port: MessagePort, url: string, transaction: unknown): Promise<Reply> {
  const message = { v: VERSION, type: 'callback', url, transaction, id: ids++ }
  return ask(port, message, 3_000) as Promise<Reply>
}

/**
 * The attacker's own sign-in: a transaction (state, verifier, nonce) and a callback with a code
 * for the attacker's account, from an engine of the attacker's (its own browser).
 */
async function attackersCallback(name: string, idp: MockProvider) {
  const own = portWorker().connect(name)
  const asked = (await ask(own, { v: VERSION, type: 'authorize', params: {}, id: 1 }, 3_000)) as {
    value: Authorization
  }
  const url = await idp.authorize(asked.value.url, { sub: 'mallory' })
  return { url, transaction: asked.value.transaction }
}

describe('H: a callback the engine did not start (login CSRF)', () => {
  it("H25: a port's own transaction and a code for the attacker's account never sign a tab in", async () => {
    const worker = portWorker()
    const { auth, idp, signIn, authorizeRedirect } = setup({ tokenWorker: worker.factory })
    const tab = otherTab(worker).auth
    await Promise.all([auth.ready(), tab.ready()])
    const attacker = worker.connect(worker.name)
    const outcomes: string[] = []
    const refused = async (reply: Promise<Reply>) => {
      const before = tokenRequests()
      const answer = await reply
      outcomes.push(answer.error?.code ?? 'ok')
      expect(answer).toMatchObject({ ok: false, error: { code: 'callback_invalid' } })
      expect(tokenRequests()).toBe(before)
      return answer
    }

    // Signed in: a callback of the attacker's is refused, with no token request.
    await signIn({ sub: 'alice' })
    const forged = await attackersCallback(worker.name, idp)
    const said = await refused(forge(attacker, forged.url, forged.transaction))
    expect(said.error?.message).toMatch(/not started here/)

    // A sign-in under way whose state the attacker does not know: the forgery is refused and the
    // real one completes.
    const pending = await authorizeRedirect({ sub: 'alice' })
    await refused(forge(attacker, forged.url, forged.transaction))
    history.replaceState(null, '', pending)
    await auth.handleCallback()
    expect(auth.getState().user?.sub).toBe('alice')

    // A sign-in under way whose state the attacker read: its code and verifier with the real
    // state differ from the engine's copy, and are refused before any request.
    const next = await authorizeRedirect({ sub: 'alice' })
    const state = new URL(next).searchParams.get('state')!
    const stored = JSON.parse(sessionStorage.getItem(`spa-auth:tx:${state}`)!) as Transaction
    const withState = new URL(forged.url)
    withState.searchParams.set('state', state)
    await refused(forge(attacker, withState.href, { ...forged.transaction, state }))

    // A replay of a handled callback, with its own transaction: refused without a request.
    const handled = await authorizeRedirect({ sub: 'alice' })
    const handledState = new URL(handled).searchParams.get('state')!
    const handledTx = JSON.parse(sessionStorage.getItem(`spa-auth:tx:${handledState}`)!)
    history.replaceState(null, '', handled)
    await auth.handleCallback()
    await refused(forge(attacker, handled, handledTx))
    // The real transaction of the sign-in the attacker burnt above is used up too.
    await refused(forge(attacker, next, stored))

    // States and transactions that name what every object inherits.
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const url = new URL(forged.url)
      url.searchParams.set('state', name)
      await refused(forge(attacker, url.href, { ...forged.transaction, state: name }))
    }
    const poisoned = JSON.parse(
      `{"__proto__": {"state": "x"}, ${JSON.stringify(forged.transaction).slice(1)}`,
    )
    await refused(forge(attacker, forged.url, poisoned))

    for (const page of [auth, tab]) {
      expect(page.getState().status).toBe('authenticated')
      expect(page.getState().user?.sub).toBe('alice')
    }
    console.log(`H25 figures: forged=${outcomes.length} outcomes=${[...new Set(outcomes)]}`)
  })

  it("H25: an engine that has started nothing takes the page's transaction once: a worker restarted", async () => {
    const worker = portWorker()
    const { auth, idp, authorizeRedirect } = setup({ tokenWorker: worker.factory })
    await auth.ready()
    const callback = await authorizeRedirect({ sub: 'alice' })
    // The worker stopped while the user was at the provider: the page comes back to a new one.
    const restarted = portWorker()
    const back = otherTab(restarted).auth
    history.replaceState(null, '', callback)
    await back.handleCallback()
    expect(back.getState().user?.sub).toBe('alice')
    // From then on, the engine takes no transaction but its own.
    const attacker = restarted.connect(restarted.name)
    const forged = await attackersCallback(restarted.name, idp)
    const before = tokenRequests()
    expect(await forge(attacker, forged.url, forged.transaction)).toMatchObject({
      ok: false,
      error: { code: 'callback_invalid' },
    })
    expect(tokenRequests()).toBe(before)
    expect(back.getState().user?.sub).toBe('alice')
  })

  it('H25: an engine that started a sign-in refuses a foreign transaction even with no session', async () => {
    const worker = portWorker()
    const { auth, idp, authorizeRedirect } = setup({ tokenWorker: worker.factory })
    await auth.ready()
    const callback = await authorizeRedirect({ sub: 'alice' })
    const attacker = worker.connect(worker.name)
    const forged = await attackersCallback(worker.name, idp)
    expect(await forge(attacker, forged.url, forged.transaction)).toMatchObject({
      ok: false,
      error: { code: 'callback_invalid' },
    })
    expect(auth.getState().status).toBe('unauthenticated')
    history.replaceState(null, '', callback)
    await auth.handleCallback()
    expect(auth.getState().user?.sub).toBe('alice')
    expect(new URL(location.href).origin).toBe(APP)
  })
})

describe('H: a flood of forged callbacks', () => {
  it("H26: 100,000 forged callbacks on a port leave the engine's heap flat", async () => {
    // Its own `node --expose-gc` process: heap figures after a real GC, in a process that did
    // nothing else. The child serves a real engine on a MessageChannel, the mock provider behind it.
    const outfile = join(
      import.meta.dirname,
      '../../../node_modules/.cache/spa-auth-flood/child.mjs',
    )
    await build({
      entryPoints: [join(import.meta.dirname, 'flood-child.test-util.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['source'],
      // Some of what the mock provider bundles still calls `require`.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'silent',
    })
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', outfile, '100000'],
      {
        maxBuffer: 1 << 20,
      },
    )
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as FloodReport
    const retained = report.heapAfterKiB - report.heapBeforeKiB
    console.log(
      `H26 figures: forgedCallbacks=${report.forged} retainedHeapKiB=${retained} heapBeforeKiB=${report.heapBeforeKiB} heapAfterKiB=${report.heapAfterKiB} refused=${report.refused} ms=${report.ms}`,
    )
    expect(report.refused).toBe(100_000)
    expect(retained).toBeLessThan(4 * 1024)
  }, 120_000)
})

/** Holds the next token request on the wire until `release()`; `arrived` settles when it is sent. */
function holdNextTokenRequest() {
  let release = () => {}
  let arrived = () => {}
  const sent = new Promise<void>((resolve) => {
    arrived = resolve
  })
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  server.use(
    http.post(
      `${ISSUER}/token`,
      async () => {
        arrived()
        await gate
        // Nothing returned: the mock provider answers, after the wait.
      },
      { once: true },
    ),
  )
  return { sent, release }
}

/** Whether the provider still takes `refreshToken`. */
async function stillValid(refreshToken: string): Promise<boolean> {
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: CLIENT_ID,
  })
  return (await fetch(`${ISSUER}/token`, { method: 'POST', body })).ok
}

const refreshTokens = () => issuedTokens().filter((t) => !t.startsWith('eyJ'))

describe('H: a sign-out while the code is exchanged', () => {
  it.each([
    ['another tab', 1],
    ['two tabs', 2],
  ])(
    'H27: a sign-out from %s during the code exchange stands: the exchange is discarded and its refresh token revoked',
    async (_, signOuts) => {
      const worker = portWorker()
      const { auth, idp, authorizeRedirect } = setup({ tokenWorker: worker.factory })
      const tabs = [otherTab(worker).auth, otherTab(worker).auth]
      await Promise.all([auth.ready(), ...tabs.map((t) => t.ready())])
      const callback = await authorizeRedirect({ sub: 'alice' })
      const held = holdNextTokenRequest()
      history.replaceState(null, '', callback)
      const exchange = auth.handleCallback()
      await held.sent
      await Promise.all(tabs.slice(0, signOuts).map((t) => t.logout()))
      held.release()
      const error = await rejection(exchange)
      expect(error.code).toBe('login_required')
      for (const page of [auth, ...tabs]) expect(page.getState().status).toBe('unauthenticated')
      expect(idp.counts.revocation).toBe(1)
      const [discarded] = refreshTokens()
      expect(discarded).toBeDefined()
      expect(await stillValid(discarded!)).toBe(false)
      console.log(
        `H27 figures: signOuts=${signOuts} revocations=${idp.counts.revocation} discardedRefreshTokenValid=false`,
      )
    },
  )

  it('H27: a sign-out then a new sign-in before the old exchange answers: the new one wins', async () => {
    const worker = portWorker()
    const { auth, idp, authorizeRedirect } = setup({ tokenWorker: worker.factory })
    const other = otherTab(worker)
    await Promise.all([auth.ready(), other.auth.ready()])
    const old = await authorizeRedirect({ sub: 'alice' })
    const held = holdNextTokenRequest()
    history.replaceState(null, '', old)
    const exchange = auth.handleCallback()
    await held.sent
    // A sign-out that stays on the page (a real one leaves for the provider's end-session).
    await other.auth.logout({ localOnly: true })
    // The other tab signs in as someone else, and is back before the old exchange answers.
    await other.auth.login()
    const fresh = await idp.authorize(other.navigations.at(-1)!, { sub: 'bob' })
    await other.auth.handleCallback(fresh)
    expect(other.auth.getState().user?.sub).toBe('bob')
    const [kept] = refreshTokens()
    held.release()
    expect((await rejection(exchange)).code).toBe('login_required')
    for (const page of [auth, other.auth]) expect(page.getState().user?.sub).toBe('bob')
    const discarded = refreshTokens().find((t) => t !== kept)
    expect(await stillValid(discarded!)).toBe(false)
    expect(await stillValid(kept!)).toBe(true)
  })
})
