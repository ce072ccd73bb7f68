import type { AuthEvent, TokenHolderKind } from '@spa-auth/core'
import { useSyncExternalStore } from 'react'

/** One line of the timeline. */
export interface Entry {
  id: number
  at: Date
  tone: 'info' | 'ok' | 'warn' | 'error'
  title: string
  detail?: string
}

let entries: Entry[] = []
let nextId = 1
const listeners = new Set<() => void>()

/** Adds a line at the top of the timeline. */
export function log(tone: Entry['tone'], title: string, detail?: string): void {
  entries = [
    { id: nextId++, at: new Date(), tone, title, ...(detail ? { detail } : {}) },
    ...entries,
  ].slice(0, 200)
  for (const listener of listeners) listener()
}

/** Empties the timeline. */
export function clearTimeline(): void {
  entries = []
  for (const listener of listeners) listener()
}

/** The timeline, for components. */
export function useTimeline(): Entry[] {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    () => entries,
  )
}

const seconds = (at: number | undefined) =>
  at === undefined ? 'unknown expiry' : `valid ${Math.round((at - Date.now()) / 1000)} s`

/** Where the session (and its refresh token) is kept, as the client said when it connected. */
export const HOLDERS: Record<TokenHolderKind, string> = {
  'shared-worker': 'the token worker every tab shares (SharedWorker)',
  worker: "this tab's own token worker (a dedicated Worker: no SharedWorker here)",
  page: 'this page (no token worker could start here)',
  bff: 'the BFF on the server (no token in this browser at all)',
}

let holder: TokenHolderKind | undefined
const holderListeners = new Set<() => void>()

/** Where the refresh token lives, for components. */
export function useHolder(): TokenHolderKind | undefined {
  return useSyncExternalStore(
    (listener) => {
      holderListeners.add(listener)
      return () => holderListeners.delete(listener)
    },
    () => holder,
  )
}

/** Writes the SDK's lifecycle events into the timeline. */
export function logAuthEvent(event: AuthEvent): void {
  if (event.type === 'connected') {
    holder = event.holder
    for (const listener of holderListeners) listener()
  }
  log(...describe(event))
}

type Proof = Extract<AuthEvent, { type: 'dpop_proof' }>

function describeProof({ htm, htu, nonce }: Proof): [Entry['tone'], string, string?] {
  return [
    'info',
    `DPoP proof: ${htm} ${htu}`,
    nonce ? `carries the server's nonce ${nonce.slice(0, 10)}…` : 'no nonce',
  ]
}

function describe(event: AuthEvent): [Entry['tone'], string, string?] {
  switch (event.type) {
    case 'connected':
      return [
        event.holder === 'page' ? 'warn' : 'info',
        `Session kept by ${HOLDERS[event.holder]}`,
        event.holder === 'page'
          ? 'the refresh token is in this page'
          : event.holder === 'bff'
            ? 'no token reaches this browser: an httpOnly cookie names the session'
            : 'the refresh token never reaches this page',
      ]
    case 'login':
      return ['ok', 'Signed in', `as ${event.sub}`]
    case 'refresh':
      // An API's own token (`apis`), got with the session's one refresh token.
      return event.api
        ? ['ok', `Token for the ${event.api} API`, `its own audience, ${seconds(event.expiresAt)}`]
        : [
            'ok',
            `Token refreshed (${event.reason})`,
            `new access token, ${seconds(event.expiresAt)}`,
          ]
    case 'refresh_failed':
      return [
        event.willRetry ? 'warn' : 'error',
        `Refresh failed (attempt ${event.attempt})`,
        `${event.error.code}: ${event.error.message}${event.willRetry ? ' — retrying with backoff' : ''}`,
      ]
    case 'session_expired':
      return ['error', 'Session ended', event.error.message]
    case 'retry':
      return [
        'warn',
        event.refreshed ? '401 → refresh → replay' : '401 → replay with newer token',
        event.url,
      ]
    case 'dpop_nonce':
      return ['warn', 'The server asked for its DPoP nonce', `use_dpop_nonce: ${event.url}`]
    case 'dpop_proof':
      return describeProof(event)
    case 'logout':
      return [
        'info',
        'Signed out',
        event.revoked ? 'tokens revoked at the provider' : 'local sign-out',
      ]
    case 'error':
      return ['error', event.error.code, event.error.description ?? event.error.message]
  }
}
