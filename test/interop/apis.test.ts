// Several APIs against oidc-provider with resource indicators (RFC 8707), in Chromium: the bare app
// with `defineApis()` for two resource servers, each of which checks `aud` and refuses the other's
// token; with Bearer tokens and with DPoP. Catalogue group K.
import { describe, expect, it } from 'vitest'
import { bareAppRoot, serveApp } from './apps.js'
import { freshPage, passProviderPages } from './pages.js'
import { startStackInChromium } from './stack.js'

describe.each([
  ['Bearer', false],
  ['DPoP', true],
])('two APIs with a token each, %s, against oidc-provider', (_, dpop) => {
  const ctx = startStackInChromium({
    serve: (env) => serveApp(bareAppRoot, env),
    accessTokenTtl: 60,
    dpop,
    apis: 1,
  })

  it('K2: 10 calls to each API carry a token of its own audience; 1 code exchange, one refresh-token grant per API; a token of one is refused by the other', async () => {
    const { idp, api, apis, app } = ctx.stack
    const other = apis[0]!
    const page = await freshPage(ctx.browser)
    await page.goto(app.origin)
    await page.waitForFunction(() => 'interop' in globalThis)
    await passProviderPages(page, () => page.evaluate(() => void interop.login()), {
      issuer: idp.issuer,
      appOrigin: app.origin,
    })
    await page.waitForFunction(() => 'interop' in globalThis)
    expect(await page.evaluate(() => interop.callback())).toEqual({
      ok: true,
      status: 'authenticated',
    })
    // The sign-in named both resources, so that the grant covers each.
    const authorize = idp.requests.find((r) => r.path === '/auth')
    expect(authorize?.resources.sort()).toEqual([api.resource, other.resource].sort())

    const urls = [api, other].flatMap((server) =>
      Array.from({ length: 10 }, (_, i) => `${server.origin}/api/${i % 2 ? 'me' : 'orders'}`),
    )
    const statuses = await page.evaluate(
      (list) => Promise.all(list.map((url) => interop.at(url))),
      urls,
    )
    expect(statuses).toEqual(urls.map(() => 200))
    for (const server of [api, other]) {
      const calls = server.requests.filter((r) => r.origin && r.method === 'GET')
      // Each server verified `aud` against itself: every call carried a token of its own.
      expect(calls.filter((r) => r.status === 200)).toHaveLength(10)
      expect(calls.filter((r) => r.status === 401 && r.challenge !== 'use_dpop_nonce')).toEqual([])
      if (dpop) expect(calls.every((r) => r.scheme === 'DPoP')).toBe(true)
    }
    const grants = idp.requests.filter((r) => r.method === 'POST' && r.path === '/token')
    const ok = grants.filter((r) => r.status === 200)
    expect(ok.filter((r) => r.grantType === 'authorization_code')).toHaveLength(1)
    expect(
      ok
        .filter((r) => r.grantType === 'refresh_token')
        .flatMap((r) => r.resources)
        .sort(),
    ).toEqual([api.resource, other.resource].sort())

    if (!dpop) {
      // Each server refuses the other's token: the audiences really differ.
      expect(
        await page.evaluate((url) => interop.withTokenOf('api0', url), `${other.origin}/api/me`),
      ).toBe(401)
      expect(
        await page.evaluate((url) => interop.withTokenOf('api1', url), `${api.origin}/api/me`),
      ).toBe(401)
      expect(
        await page.evaluate((url) => interop.withTokenOf('api1', url), `${other.origin}/api/me`),
      ).toBe(200)
    }
    console.log(
      `interop apis figures (${dpop ? 'DPoP' : 'Bearer'}): calls=${urls.length} codeExchanges=1 ` +
        `refreshGrants=${ok.filter((r) => r.grantType === 'refresh_token').length} ` +
        `statuses200=${statuses.filter((s) => s === 200).length}`,
    )
  })
})
