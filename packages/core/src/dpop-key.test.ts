// H24: the DPoP key in IndexedDB, which any script of the origin can write. An in-memory
// IndexedDB stands in for the browser's here (Chromium runs the same code in the e2e tests).
import 'fake-indexeddb/auto'
import { calculateJwkThumbprint, decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  CLIENT_ID,
  clientOptions,
  ENGINE,
  ISSUER,
  rejection,
  setup,
  tokenRequests,
} from './harness.test-util.js'
import { createAuthClient } from './index.js'
import { portWorker } from './port.test-util.js'

const SLOT = `${ISSUER}/ ${CLIENT_ID}`

/** Runs one request on the key store, as page script would. */
function idb<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest<T>) {
  return new Promise<T>((resolve, reject) => {
    const open = indexedDB.open('spa-auth', 1)
    open.onupgradeneeded = () => open.result.createObjectStore('dpop')
    open.onsuccess = () => {
      const db = open.result
      const request = run(db.transaction('dpop', mode).objectStore('dpop'))
      request.onsuccess = () => {
        resolve(request.result)
        db.close()
      }
      request.onerror = () => reject(request.error)
    }
    open.onerror = () => reject(open.error)
  })
}
const plant = (id: string, value: unknown) => idb('readwrite', (s) => s.put(value, id))
const storedIds = () => idb('readonly', (s) => s.getAllKeys()).then((keys) => keys.map(String))

const ec = (namedCurve: string, extractable: boolean, usages: KeyUsage[] = ['sign', 'verify']) =>
  crypto.subtle.generateKey(
    { name: 'ECDSA', namedCurve },
    extractable,
    usages,
  ) as Promise<CryptoKeyPair>

/** What page script may leave in a key slot: each must be refused, none ever proved. */
async function planted(): Promise<Record<string, unknown>> {
  const own = await ec('P-256', false)
  const other = await ec('P-256', false)
  return {
    'a plain object': { privateKey: {}, publicKey: {} },
    'a public key alone': (await ec('P-256', true)).publicKey,
    'an extractable pair': await ec('P-256', true),
    'a P-384 pair': await ec('P-384', false),
    'halves of two pairs': { privateKey: own.privateKey, publicKey: other.publicKey },
    'a pair without verify': await ec('P-256', false, ['sign']),
    'a sound pair of its own': await ec('P-256', false),
    'a string': 'key',
  }
}

const jktOf = async (keys: CryptoKeyPair) =>
  calculateJwkThumbprint(await crypto.subtle.exportKey('jwk', keys.publicKey))

/** A new page of the same client, with an engine that started nothing (a restarted worker). */
function freshPage() {
  const worker = ENGINE === 'port' ? portWorker() : undefined
  const navigations: string[] = []
  const auth = createAuthClient({
    ...clientOptions(navigations),
    dpop: true,
    ...(worker ? { tokenWorker: worker.factory } : {}),
  })
  return { auth, navigations }
}

describe('H: the DPoP key slot, written by page script', () => {
  it('H24: a value planted before sign-in or before step-up is never proved: every sign-in makes its own non-extractable key', async () => {
    const { auth, idp, navigations, signIn } = setup({ dpop: true })
    const values = await planted()
    const thumbprints = new Set<string>()
    for (const value of Object.values(values)) {
      if ((value as CryptoKeyPair)?.publicKey instanceof CryptoKey)
        thumbprints.add(await jktOf(value as CryptoKeyPair).catch(() => ''))
    }
    const proved: string[] = []
    for (const [what, value] of Object.entries(values)) {
      await plant(SLOT, value)
      await plant(`${SLOT} any-state`, value)
      // A sign-in, then a step-up: each asks for a key of its own.
      await signIn()
      const signedIn = new URL(navigations.at(-1)!).searchParams.get('dpop_jkt')!
      await plant(SLOT, value)
      await auth.stepUp({ acrValues: 'mfa' })
      const stepUp = new URL(navigations.at(-1)!).searchParams.get('dpop_jkt')!
      for (const jkt of [signedIn, stepUp]) {
        expect(jkt, what).toMatch(/^[\w-]{43}$/)
        expect(thumbprints.has(jkt), what).toBe(false)
      }
      expect(stepUp, what).not.toBe(signedIn)
      expect(decodeJwt(await auth.getAccessToken()).cnf, what).toEqual({ jkt: signedIn })
      proved.push(signedIn)
      await auth.logout({ localOnly: true })
      // Sign-out leaves no slot of this client behind, planted or not.
      expect(await storedIds(), what).toEqual([])
    }
    expect(new Set(proved).size).toBe(proved.length)
    expect(idp.dpopProofs.some((p) => thumbprints.has(p.jkt ?? ''))).toBe(false)
    console.log(`H24 figures: plantedValues=${Object.keys(values).length} provedPlanted=0`)
  })

  it('H24: a new engine finishing a sign-in across the redirect takes the stored pair only when it passes every check', async () => {
    const first = setup({ dpop: true })
    const values = await planted()
    const outcomes: Record<string, string> = {}
    for (const [what, value] of [...Object.entries(values), ['the pair the engine made', null]]) {
      const callback = await first.authorizeRedirect()
      const state = new URL(callback).searchParams.get('state')!
      if (value !== null) await plant(`${SLOT} ${state}`, value)
      const before = tokenRequests()
      const page = freshPage()
      history.replaceState(null, '', callback)
      const outcome = await page.auth.handleCallback().then(
        () => 'signed in',
        (e: { code: string }) => e.code,
      )
      outcomes[what as string] = outcome
      // Read or refused, the slot is gone.
      expect(await storedIds(), what as string).not.toContain(`${SLOT} ${state}`)
      if (value === null) {
        expect(outcome).toBe('signed in')
        expect(page.auth.getState().status).toBe('authenticated')
      } else {
        expect(outcome, what as string).toBe('callback_invalid')
        // The app shows it: the state says why, and no token was asked for.
        expect(page.auth.getState()).toMatchObject({
          status: 'unauthenticated',
          error: {
            code: 'callback_invalid',
            message: expect.stringMatching(/named for its proofs \(DPoP\)/),
          },
        })
        expect(tokenRequests()).toBe(before)
      }
      page.auth.dispose()
    }
    console.log(
      `H24 figures: ${Object.entries(outcomes)
        .map(([what, outcome]) => `${what.replaceAll(' ', '_')}=${outcome}`)
        .join(' ')}`,
    )
  })

  it('H24: a sign-in whose stored key is missing fails typed, and the next sign-in works', async () => {
    const first = setup({ dpop: true })
    const callback = await first.authorizeRedirect()
    const state = new URL(callback).searchParams.get('state')!
    await idb('readwrite', (s) => s.delete(`${SLOT} ${state}`))
    const page = freshPage()
    history.replaceState(null, '', callback)
    expect((await rejection(page.auth.handleCallback())).code).toBe('callback_invalid')
    expect(page.auth.getState().error?.code).toBe('callback_invalid')
    const again = await first.authorizeRedirect()
    history.replaceState(null, '', again)
    await first.auth.handleCallback()
    expect(first.auth.getState().status).toBe('authenticated')
  })
})
