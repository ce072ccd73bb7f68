import type { AuthClient } from '@spa-auth/core'
import type { ReactNode } from 'react'
import { StrictMode } from 'react'
import { AuthProvider, type AuthProviderProps } from './AuthProvider.js'

/** A wrapper for render/renderHook: the provider inside StrictMode, as apps should run it. */
export function createWrapper(client: AuthClient, props: Partial<AuthProviderProps> = {}) {
  // biome-ignore lint/correctness/noComponentHookFactories: one wrapper per client, made once per test
  return function Wrapper({ children }: { children?: ReactNode }) {
    return (
      <StrictMode>
        <AuthProvider client={client} {...props}>
          {children}
        </AuthProvider>
      </StrictMode>
    )
  }
}
