import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  API,
  authorize,
  callApi,
  clock,
  dpopKey,
  exchange,
  ISSUER,
  mockProvider,
  refresh,
  server,
  signIn,
  TOKEN,
  tokens,
} from './flow.test-util.js'

beforeEach(() => {
  clock.now = Date.parse('2030-01-01T00:00:00Z')
})

const challenge = (response: Response) => response.headers.get('www-authenticate')
const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error

describe('the token endpoint', () => {
  it('advertises ES256 proofs in discovery', async () => {
    mockProvider()
    const metadata = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json()
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256'])
  })

  it('issues DPoP tokens bound to the proof key', async () => {
    const idp = mockProvider()
    const key = await dpopKey()
    const issued = await signIn(idp, { key })
    expect(issued.token_type).toBe('DPoP')
    expect(issued.claims.cnf).toEqual({ jkt: key.jkt })
    const renewed = await tokens(
      await refresh(issued.refresh_token, await key.proof('POST', TOKEN)),
    )
    expect(renewed.token_type).toBe('DPoP')
    expect(renewed.claims.cnf).toEqual({ jkt: key.jkt })
  })

  it('issues Bearer tokens to a request without a proof', async () => {
    const issued = await signIn(mockProvider())
    expect(issued.token_type).toBe('Bearer')
    expect(issued.claims.cnf).toBeUndefined()
  })

  it('refuses the code to a key other than dpop_jkt', async () => {
    const idp = mockProvider()
    const [key, other] = [await dpopKey(), await dpopKey()]
    const code = await authorize(idp, { dpop_jkt: key.jkt })
    const response = await exchange(code, await other.proof('POST', TOKEN))
    expect(response.status).toBe(400)
    expect(await errorOf(response)).toBe('invalid_grant')
    const unproved = await exchange(await authorize(idp, { dpop_jkt: key.jkt }))
    expect(await errorOf(unproved)).toBe('invalid_grant')
    const bound = await exchange(
      await authorize(idp, { dpop_jkt: key.jkt }),
      await key.proof('POST', TOKEN),
    )
    expect((await tokens(bound)).claims.cnf).toEqual({ jkt: key.jkt })
  })

  it('refreshes a bound refresh token only with its key, without spending it otherwise', async () => {
    const idp = mockProvider()
    const [key, other] = [await dpopKey(), await dpopKey()]
    const { refresh_token } = await signIn(idp, { key })
    const stolen = await refresh(refresh_token, await other.proof('POST', TOKEN))
    expect([stolen.status, await errorOf(stolen)]).toEqual([400, 'invalid_grant'])
    const unproved = await refresh(refresh_token)
    expect([unproved.status, await errorOf(unproved)]).toEqual([400, 'invalid_dpop_proof'])
    expect(idp.counts.refresh).toBe(0)
    const response = await refresh(refresh_token, await key.proof('POST', TOKEN))
    expect(response.status).toBe(200)
  })

  const bad: Array<[string, (key: Awaited<ReturnType<typeof dpopKey>>) => Promise<string>]> = [
    ['another htm', (key) => key.proof('GET', TOKEN)],
    ['another htu', (key) => key.proof('POST', `${ISSUER}/revoke`)],
    ['another typ', (key) => key.proof('POST', TOKEN, { typ: 'JWT' })],
    ['an iat 61 s ahead', (key) => key.proof('POST', TOKEN, { iat: clock.now / 1000 + 61 })],
    ['an iat 61 s behind', (key) => key.proof('POST', TOKEN, { iat: clock.now / 1000 - 61 })],
    ['no jti', (key) => key.proof('POST', TOKEN, { jti: null })],
    [
      'a key other than its jwk',
      async (key) => key.proof('POST', TOKEN, { header: { jwk: (await dpopKey()).jwk } }),
    ],
    [
      'a private jwk',
      async (key) => key.proof('POST', TOKEN, { header: { jwk: await exportJWK(key.privateKey) } }),
    ],
    [
      'ES384',
      async () => {
        const pair = await generateKeyPair('ES384')
        return new SignJWT({ htm: 'POST', htu: TOKEN, jti: 'j' })
          .setProtectedHeader({
            typ: 'dpop+jwt',
            alg: 'ES384',
            jwk: await exportJWK(pair.publicKey),
          })
          .setIssuedAt(Math.floor(clock.now / 1000))
          .sign(pair.privateKey)
      },
    ],
  ]
  it.each(bad)('refuses a proof with %s, and the code stays usable', async (_, make) => {
    const idp = mockProvider()
    const key = await dpopKey()
    const code = await authorize(idp)
    const response = await exchange(code, await make(key))
    expect([response.status, await errorOf(response)]).toEqual([400, 'invalid_dpop_proof'])
    expect((await exchange(code, await key.proof('POST', TOKEN))).status).toBe(200)
    expect(idp.dpopProofs.map((p) => p.accepted)).toEqual([false, true])
  })

  it('refuses a replayed proof', async () => {
    const idp = mockProvider()
    const key = await dpopKey()
    const { refresh_token } = await signIn(idp, { key })
    const proof = await key.proof('POST', TOKEN)
    expect((await refresh(refresh_token, proof)).status).toBe(200)
    const replay = await refresh(refresh_token, proof)
    expect([replay.status, await errorOf(replay)]).toEqual([400, 'invalid_dpop_proof'])
  })

  it('takes a proof whose htu carries a query', async () => {
    const idp = mockProvider()
    const key = await dpopKey()
    const code = await authorize(idp)
    expect((await exchange(code, await key.proof('POST', `${TOKEN}?x=1#f`))).status).toBe(200)
  })
})

describe('nonces', () => {
  it('asks for its nonce, then takes it, and says it on every answer', async () => {
    const idp = mockProvider()
    await idp.setFaults({ dpopNonce: true })
    const key = await dpopKey()
    const code = await authorize(idp)
    const first = await exchange(code, await key.proof('POST', TOKEN))
    expect([first.status, await errorOf(first)]).toEqual([400, 'use_dpop_nonce'])
    const nonce = first.headers.get('dpop-nonce')
    expect(nonce).toBeTruthy()
    const second = await exchange(code, await key.proof('POST', TOKEN, { nonce: nonce! }))
    expect(second.status).toBe(200)
    expect(second.headers.get('dpop-nonce')).toBe(nonce)
    expect(idp.counts.dpopNonce).toBe(1)
  })

  it('fails an old nonce once after a rotation, with the new one', async () => {
    const idp = mockProvider()
    idp.faults.dpopNonce = true
    const key = await dpopKey()
    const nonce = (
      await exchange(await authorize(idp), await key.proof('POST', TOKEN))
    ).headers.get('dpop-nonce')!
    const code = await authorize(idp)
    const { refresh_token } = await tokens(
      await exchange(code, await key.proof('POST', TOKEN, { nonce })),
    )
    await idp.rotateDpopNonces()
    const stale = await refresh(refresh_token, await key.proof('POST', TOKEN, { nonce }))
    expect(await errorOf(stale)).toBe('use_dpop_nonce')
    const fresh = stale.headers.get('dpop-nonce')!
    expect(fresh).not.toBe(nonce)
    expect(
      (await refresh(refresh_token, await key.proof('POST', TOKEN, { nonce: fresh }))).status,
    ).toBe(200)
  })

  it('gives the API a nonce of its own', async () => {
    const idp = mockProvider()
    const key = await dpopKey()
    const { access_token } = await signIn(idp, { key })
    await idp.setFaults({ dpopNonce: true })
    const tokenNonce = (
      await exchange(await authorize(idp), await key.proof('POST', TOKEN))
    ).headers.get('dpop-nonce')
    const first = await callApi('/api/me', access_token, { key, proof: { nonce: tokenNonce! } })
    expect(first.status).toBe(401)
    expect(challenge(first)).toBe(
      'DPoP error="use_dpop_nonce", error_description="a DPoP nonce is required", algs="ES256"',
    )
    const nonce = first.headers.get('dpop-nonce')!
    expect(nonce).not.toBe(tokenNonce)
    const second = await callApi('/api/me', access_token, { key, proof: { nonce } })
    expect(second.status).toBe(200)
    expect(second.headers.get('dpop-nonce')).toBe(nonce)
  })
})

describe('the API', () => {
  async function bound() {
    const idp = mockProvider()
    const key = await dpopKey()
    const { access_token } = await signIn(idp, { key })
    return { idp, key, access_token }
  }

  it('takes a DPoP-bound token with its proof', async () => {
    const { key, access_token } = await bound()
    const response = await callApi('/api/me', access_token, { key })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ sub: 'alice' })
  })

  it.each([
    ['another htm', { claims: { htm: 'POST' } }],
    ['another htu', { claims: { htu: `${API}/api/orders` } }],
    ['another ath', { claims: { ath: 'x' } }],
    ['no ath', { claims: { ath: undefined } }],
  ])('refuses a proof with %s', async (_, proof) => {
    const { key, access_token } = await bound()
    const response = await callApi('/api/me', access_token, { key, proof })
    expect(response.status).toBe(401)
    expect(challenge(response)).toMatch(
      /^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="ES256"$/,
    )
  })

  it('refuses a proof of another key', async () => {
    const { access_token } = await bound()
    const response = await callApi('/api/me', access_token, { key: await dpopKey() })
    expect(challenge(response)).toContain('DPoP error="invalid_dpop_proof"')
  })

  it('refuses a replayed proof', async () => {
    const { key, access_token } = await bound()
    const proof = await key.proof('GET', `${API}/api/me`, { accessToken: access_token })
    const call = () =>
      fetch(`${API}/api/me`, { headers: { authorization: `DPoP ${access_token}`, dpop: proof } })
    expect((await call()).status).toBe(200)
    expect(challenge(await call())).toContain('error="invalid_dpop_proof"')
  })

  it('refuses a DPoP-bound token sent as Bearer', async () => {
    const { access_token } = await bound()
    const response = await callApi('/api/orders', access_token)
    expect(response.status).toBe(401)
    expect(challenge(response)).toMatch(/^DPoP error="invalid_token", .*algs="ES256"$/)
  })

  it('refuses a Bearer token sent as DPoP', async () => {
    const { access_token } = await signIn(mockProvider())
    const response = await callApi('/api/me', access_token, { key: await dpopKey() })
    expect(challenge(response)).toMatch(/^DPoP error="invalid_token"/)
  })

  it('keeps taking Bearer tokens', async () => {
    const { access_token } = await signIn(mockProvider())
    expect((await callApi('/api/orders', access_token)).status).toBe(200)
  })

  it('records the proofs it saw, and no token', async () => {
    const { idp, key, access_token } = await bound()
    await callApi('/api/me', access_token, { key, proof: { claims: { htm: 'PUT' } } })
    expect(idp.dpopProofs).toEqual([
      { server: 'token', htm: 'POST', htu: TOKEN, jkt: key.jkt, accepted: true },
      {
        ...{ server: 'api', htm: 'PUT', htu: `${API}/api/me`, jkt: key.jkt, accepted: false },
        ...{ error: 'invalid_dpop_proof', description: 'htm is not GET' },
      },
    ])
    expect(JSON.stringify(idp.dpopProofs)).not.toContain(access_token)
    expect(idp.counts.dpopRejected).toBe(1)
  })
})

describe('a provider or an API without DPoP', () => {
  it('provider: no metadata, Bearer tokens for proofs, dpop_jkt ignored', async () => {
    const idp = mockProvider()
    await idp.setFaults({ dpopUnsupported: 'provider' })
    const metadata = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json()
    expect(metadata).not.toHaveProperty('dpop_signing_alg_values_supported')
    const key = await dpopKey()
    const code = await authorize(idp, { dpop_jkt: (await dpopKey()).jkt })
    const issued = await tokens(await exchange(code, await key.proof('POST', TOKEN)))
    expect(issued.token_type).toBe('Bearer')
    expect(issued.claims.cnf).toBeUndefined()
    expect(idp.dpopProofs).toEqual([])
  })

  it('api: a Bearer challenge to DPoP, and a bound token taken as Bearer', async () => {
    const idp = mockProvider()
    const key = await dpopKey()
    const { access_token } = await signIn(idp, { key })
    idp.faults.dpopUnsupported = 'api'
    const response = await callApi('/api/me', access_token, { key })
    expect(response.status).toBe(401)
    expect(challenge(response)).toBe('Bearer realm="mock-api"')
    expect((await callApi('/api/me', access_token)).status).toBe(200)
  })
})

describe('realms sharing a database', () => {
  it('agree on the nonces and the proofs seen', async () => {
    let saved: string | null = null
    const persist = {
      load: () => saved,
      save: (value: string) => {
        saved = value
      },
    }
    const page = mockProvider({ persist })
    await page.setFaults({ dpopNonce: true })
    const key = await dpopKey()
    const asked = await exchange(await authorize(page), await key.proof('POST', TOKEN))
    const nonce = asked.headers.get('dpop-nonce')!
    server.resetHandlers()
    const worker = mockProvider({ persist })
    const proof = await key.proof('POST', TOKEN, { nonce })
    const { refresh_token } = await tokens(await exchange(await authorize(worker), proof))
    server.resetHandlers(...page.handlers)
    const replay = await refresh(refresh_token, proof)
    expect(await errorOf(replay)).toBe('invalid_dpop_proof')
    await page.sync()
    expect(page.dpopProofs.map((p) => p.error ?? 'ok')).toEqual([
      'use_dpop_nonce',
      'ok',
      'invalid_dpop_proof',
    ])
  })
})
