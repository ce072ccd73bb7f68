// Only where each tab keeps its own session (no SharedWorker): the page loads it then.
import type { EngineConfig } from '../protocol.js'
import type { ResolvedOptions } from './options.js'

/**
 * Where each tab keeps its own session, a sign-out in one reaches the others: a channel that
 * carries nothing but "signed out". Undefined where tabs do not cooperate.
 */
export function logoutChannel(options: ResolvedOptions, onLogout: () => void) {
  if (!options.crossTab || typeof BroadcastChannel !== 'function') return undefined
  const config: EngineConfig | undefined = options.engine
  const channel = new BroadcastChannel(
    `spa-auth:${config ? `${config.issuer}|${config.clientId}` : 'custom'}`,
  )
  channel.onmessage = (event) => {
    const data = event.data as { v?: unknown; type?: unknown } | null
    if (data?.v === 1 && data.type === 'logout') onLogout()
  }
  return channel
}
