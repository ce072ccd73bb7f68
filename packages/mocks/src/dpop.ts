import { calculateJwkThumbprint, decodeJwt, EmbeddedJWK, jwtVerify } from 'jose'
import type { MockContext } from './context.js'
import { random, sha256 } from './encoding.js'
import { activeFault } from './faults.js'
import type { DpopState, MockDpopProof, MockDpopServer } from './store.js'

/** The one proof algorithm the mock accepts. */
export const DPOP_ALG = 'ES256'
/** Seconds a proof's `iat` may be off the server's clock, either way. */
const IAT_WINDOW = 60
/** Proofs kept in `proofs`: the latest ones. */
const KEPT_PROOFS = 100

/** Why a proof was refused: the OAuth error code and what was wrong. */
export class DpopProofError extends Error {
  override name = 'DpopProofError'
  constructor(
    readonly code: 'invalid_dpop_proof' | 'use_dpop_nonce',
    message: string,
    readonly jkt?: string,
  ) {
    super(message)
  }
}

const invalid = (message: string, jkt?: string) =>
  new DpopProofError('invalid_dpop_proof', message, jkt)

/** What a proof must say for this request. */
export interface ProofExpectation {
  htm: string
  /** The request's URL; its query and fragment are not compared. */
  htu: string
  /** The server's clock, in seconds. */
  now: number
  /** At a resource server: the access token, whose hash `ath` must be. */
  accessToken?: string
  /** At a resource server: the token's `cnf.jkt`, the key the proof must be signed with. */
  jkt?: string
}

/** A proof whose signature and claims checked out. */
export interface VerifiedProof {
  jkt: string
  jti: string
  iat: number
  nonce?: string
}

/** A URL as `htu` compares it: without query and fragment. */
export function htuOf(url: string): string {
  const { origin, pathname } = new URL(url)
  return origin + pathname
}

/**
 * Verifies a DPoP proof's signature with its own embedded public key and its claims against the
 * request: `typ`, `alg`, `htm`, `htu`, `iat` within 60 s, `ath` and the key at a resource server.
 * Replays and nonces are the caller's (`checkProof`).
 *
 * @throws {DpopProofError} `invalid_dpop_proof`, saying what was wrong.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */
export async function verifyProof(proof: string, expect: ProofExpectation): Promise<VerifiedProof> {
  // Headers joins repeated fields with ", ", and a JWT never holds a comma.
  if (proof.includes(',')) throw invalid('more than one DPoP header')
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: [DPOP_ALG],
    requiredClaims: ['iat', 'jti', 'htm', 'htu'],
    currentDate: new Date(expect.now * 1000),
  }).catch((error: Error) => {
    throw invalid(error.message)
  })
  const jkt = await calculateJwkThumbprint(protectedHeader.jwk!, 'sha256')
  const iat = payload.iat!
  if (typeof payload.jti !== 'string') throw invalid('jti is not a string', jkt)
  if (payload.htm !== expect.htm) throw invalid(`htm is not ${expect.htm}`, jkt)
  const htu = typeof payload.htu === 'string' && URL.canParse(payload.htu) ? payload.htu : ''
  if (!htu || htuOf(htu) !== htuOf(expect.htu))
    throw invalid(`htu is not ${htuOf(expect.htu)}`, jkt)
  if (Math.abs(iat - expect.now) > IAT_WINDOW) throw invalid('iat is more than 60 s off', jkt)
  if (expect.accessToken !== undefined && payload.ath !== (await sha256(expect.accessToken))) {
    throw invalid('ath is not the hash of the access token', jkt)
  }
  if (expect.jkt !== undefined && jkt !== expect.jkt) {
    throw invalid('the proof is not signed with the key the token is bound to', jkt)
  }
  const nonce = typeof payload.nonce === 'string' ? { nonce: payload.nonce } : {}
  return { jkt, jti: payload.jti, iat, ...nonce }
}

/** Whether `server` understands DPoP, under the `dpopUnsupported` fault. */
export function understandsDpop(ctx: MockContext, server: MockDpopServer): boolean {
  const unsupported = activeFault(ctx.faults, ctx.db.faults, 'dpopUnsupported')
  return unsupported !== (server === 'token' ? 'provider' : 'api')
}

/** The nonce `server` wants now, made on first need; none unless the `dpopNonce` fault is on. */
export function currentNonce(ctx: MockContext, server: MockDpopServer): string | undefined {
  if (!activeFault(ctx.faults, ctx.db.faults, 'dpopNonce') || !understandsDpop(ctx, server)) {
    return undefined
  }
  ctx.db.dpop.nonces ??= newNonces()
  return ctx.db.dpop.nonces[server]
}

/** A fresh nonce for each server. */
export function newNonces(): Record<MockDpopServer, string> {
  return { token: random(), api: random() }
}

/** Puts `server`'s current nonce on an answer, when it wants one (RFC 9449 §8). */
export function withNonce(ctx: MockContext, server: MockDpopServer, response: Response): Response {
  const nonce = currentNonce(ctx, server)
  if (nonce) response.headers.set('DPoP-Nonce', nonce)
  return response
}

/**
 * Checks a proof as `server` does: verified (`verifyProof`), not seen before, with the current
 * nonce when one is wanted; and records it. Call it inside `change`.
 *
 * @throws {DpopProofError} `invalid_dpop_proof`, or `use_dpop_nonce` for a missing or old nonce.
 */
export async function checkProof(
  ctx: MockContext,
  server: MockDpopServer,
  proof: string,
  expect: Omit<ProofExpectation, 'now'>,
): Promise<VerifiedProof> {
  const now = ctx.seconds()
  const state = ctx.db.dpop
  const seen = claimed(server, proof, expect)
  try {
    const verified = await verifyProof(proof, { ...expect, now })
    admit(state, verified, now, currentNonce(ctx, server))
    keep(state, { ...seen, jkt: verified.jkt, accepted: true })
    return verified
  } catch (error) {
    const refusal = error instanceof DpopProofError ? error : invalid(String(error))
    const jkt = refusal.jkt ? { jkt: refusal.jkt } : {}
    const { code, message } = refusal
    keep(state, { ...seen, ...jkt, accepted: false, error: code, description: message })
    ctx.db.counts[code === 'use_dpop_nonce' ? 'dpopNonce' : 'dpopRejected']++
    throw refusal
  }
}

/** Refuses a replayed proof, then one without the current nonce; notes the `jti` of the rest. */
function admit(state: DpopState, proof: VerifiedProof, now: number, nonce: string | undefined) {
  // A jti outside the iat window can no longer pass the iat check: forget it.
  for (const [jti, iat] of Object.entries(state.jtis)) {
    if (iat < now - IAT_WINDOW) delete state.jtis[jti]
  }
  if (proof.jti in state.jtis) throw invalid('jti seen before: a replayed proof', proof.jkt)
  state.jtis[proof.jti] = proof.iat
  if (nonce !== undefined && proof.nonce !== nonce) {
    throw new DpopProofError('use_dpop_nonce', 'a DPoP nonce is required', proof.jkt)
  }
}

/** What the proof says it is for, read without trusting it: for the record only. */
function claimed(server: MockDpopServer, proof: string, expect: { htm: string; htu: string }) {
  const seen: MockDpopProof = { server, htm: expect.htm, htu: htuOf(expect.htu), accepted: false }
  try {
    const { htm, htu, nonce } = decodeJwt(proof)
    if (typeof htm === 'string') seen.htm = htm
    if (typeof htu === 'string') seen.htu = htu
    if (typeof nonce === 'string') seen.nonce = nonce
  } catch {}
  return seen
}

function keep(state: DpopState, proof: MockDpopProof): void {
  state.proofs.push(proof)
  if (state.proofs.length > KEPT_PROOFS) state.proofs.splice(0, state.proofs.length - KEPT_PROOFS)
}
