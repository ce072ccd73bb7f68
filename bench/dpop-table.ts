// The DPoP rows of the overhead bench, as a table of their own: each DPoP call beside the
// WebCrypto floor (one ES256 signature), with the targets spa-auth's call is held to.
import { BROWSER_ONLY, type CallerName, DPOP_CALLERS, DPOP_FLOOR } from './callers.js'
import type { OverheadRow } from './overhead.js'
import { fmt, markdownTable } from './table.js'

/** spa-auth's DPoP call adds at most this many times what the signature alone adds. */
export const DPOP_VS_FLOOR = 1.3

const OURS: CallerName = 'auth.fetch (DPoP)'
const BEARER: CallerName = 'auth.fetch (Bearer)'
const HASHED: CallerName = 'WebCrypto SHA-256 + ES256 sign'
const PEERS: CallerName[] = [
  'oidc-client-ts dpopProof() (DPoP)',
  'auth0-spa-js fetchWithAuth() (DPoP)',
]

const times = (value: number, of: number) => `×${(value / of).toFixed(2)}`

/**
 * The DPoP table for `where`, and what it says; `target` is told each target met or missed:
 * spa-auth's DPoP call adds less than every peer's, and at most {@link DPOP_VS_FLOOR}× the floor.
 */
export function dpopTable(
  all: OverheadRow[],
  where: 'Node' | 'Chromium',
  target: (ok: boolean, what: string) => void,
): string {
  const rows = all.filter((r) => DPOP_CALLERS.has(r.name))
  const find = (name: CallerName) => all.find((r) => r.name === name)
  const ours = find(OURS)
  const floor = find(DPOP_FLOOR)
  if (!ours || !floor) return ''
  const table = markdownTable(
    [
      `DPoP call (${where}, same in-process transport)`,
      'median ns',
      'median +ns',
      '+ns, fewest / most of the rounds',
      '+ns ÷ floor',
      'rounds',
    ],
    rows.map((r) => [
      r.name,
      r.medianNs,
      r.extraNs,
      `${fmt(r.extraRange[0])} / ${fmt(r.extraRange[1])}`,
      times(r.extraNs, floor.extraNs),
      r.rounds,
    ]),
  )
  const share = ours.extraNs / floor.extraNs
  target(
    share <= DPOP_VS_FLOOR,
    `${where}: auth.fetch (DPoP) ${share.toFixed(2)}× the floor (target ≤ ${DPOP_VS_FLOOR}×)`,
  )
  const peers = PEERS.map(find).filter((r) => r !== undefined)
  for (const peer of peers) {
    target(ours.extraNs < peer.extraNs, `${where}: auth.fetch (DPoP) not below ${peer.name}`)
  }
  const bearer = find(BEARER)
  const hashed = find(HASHED)
  const lines = [
    table,
    '',
    `auth.fetch (DPoP) adds ${fmt(ours.extraNs)} ns a call` +
      (bearer ? ` (${fmt(ours.extraNs - bearer.extraNs)} ns more than Bearer)` : '') +
      `: ${share.toFixed(2)}× what the signature alone adds (target ≤ ${DPOP_VS_FLOOR}×); ` +
      peers.map((p) => `${p.name} adds ${times(p.extraNs, ours.extraNs)} ours`).join(', ') +
      ' (target: below every peer).',
  ]
  if (hashed) {
    lines.push(
      `A SHA-256 of the token on every call, as both peers hash it for \`ath\`, costs ` +
        `${fmt(hashed.extraNs - floor.extraNs)} ns more than the signature alone here; spa-auth ` +
        'hashes each token once.',
    )
  }
  const missing = [...BROWSER_ONLY].filter((name) => !rows.some((r) => r.name === name))
  if (where === 'Node' && missing.length) {
    lines.push(
      `Not in Node: ${missing.join(', ')} (its client needs \`window\`, \`document\` cookies and ` +
        'IndexedDB, for its key and its nonces); measured in Chromium only.',
    )
  }
  return lines.join('\n')
}
