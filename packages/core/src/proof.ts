import type { AuthEventMap } from './events.js'

/** What a DPoP proof says, for the `dpop_proof` event: read from its payload, never verified. */
export function readProof(proof: string): AuthEventMap['dpop_proof'] {
  const part = proof.split('.')[1] ?? ''
  const { htm, htu, nonce } = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')))
  return { htm, htu, nonce }
}
