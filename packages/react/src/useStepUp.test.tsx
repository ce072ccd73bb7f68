import { MOCK_MFA_ACR } from '@spa-auth/mocks'
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { API, setup, tokenRequests } from '../../core/src/harness.test-util.js'
import { createWrapper } from './render.test-util.js'
import { useAuthFetch } from './useAuthFetch.js'
import { useStepUp } from './useStepUp.js'

/** A page with a sensitive action: it asks "confirm it's you" when the API wants step-up. */
function Transfer({ done }: { done: (status: number) => void }) {
  const authFetch = useAuthFetch()
  const { challenge, run, confirm, dismiss } = useStepUp()
  const transfer = async () => {
    const response = await run(() => authFetch(`${API}/api/transfer`, { method: 'POST' }))
    if (response) done(response.status)
  }
  if (challenge) {
    return (
      <div role="dialog">
        <p>Confirm it's you ({challenge.acrValues})</p>
        <button type="button" onClick={() => confirm()}>
          Confirm
        </button>
        <button type="button" onClick={dismiss}>
          Cancel
        </button>
      </div>
    )
  }
  return (
    <button type="button" onClick={transfer}>
      Transfer
    </button>
  )
}

describe('useStepUp', () => {
  it('I15: renders the challenge instead of an error, signs in again as asked, and the action then goes through', async () => {
    const { auth, idp, signIn, navigations } = setup()
    await signIn()
    history.replaceState(null, '', '/transfer?amount=100')
    const statuses: number[] = []
    render(<Transfer done={(status) => statuses.push(status)} />, {
      wrapper: createWrapper(auth),
    })
    const before = tokenRequests()
    fireEvent.click(screen.getByRole('button', { name: 'Transfer' }))
    expect(await screen.findByRole('dialog')).toHaveProperty(
      'textContent',
      expect.stringContaining(MOCK_MFA_ACR),
    )
    expect(tokenRequests()).toBe(before)
    // Cancel forgets the challenge; asking again brings it back.
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }))
    fireEvent.click(await screen.findByRole('button', { name: 'Transfer' }))
    const confirm = await screen.findByRole('button', { name: 'Confirm' })
    await act(async () => fireEvent.click(confirm))
    await waitFor(() => expect(navigations).toHaveLength(2))
    const url = new URL(navigations[1]!)
    expect(url.searchParams.get('acr_values')).toBe(MOCK_MFA_ACR)
    // Back from the provider with the second factor, on the page it left.
    history.replaceState(null, '', await idp.authorize(url.href, { mfa: true }))
    expect(await auth.handleCallback()).toEqual({ returnTo: '/transfer?amount=100' })
    fireEvent.click(screen.getByRole('button', { name: 'Transfer' }))
    await waitFor(() => expect(statuses).toEqual([200]))
  })
})
