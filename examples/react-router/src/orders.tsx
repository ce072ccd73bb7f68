import { isAuthError } from '@spa-auth/core'
import { useAuthFetch } from '@spa-auth/react'
import { QueryClient, useQuery } from '@tanstack/react-query'

/** An order, as the API sends it. */
export interface Order {
  id: string
  item: string
  total: number
}

/**
 * The app's query client. A `login_required` rejection means no session: retrying cannot help,
 * and the route guard sends the user to sign in.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (count, error) => !isAuthError(error, 'login_required') && count < 2,
      },
    },
  })
}

/** The signed-in user's orders, through `auth.fetch` (the token attached, refreshed, replayed). */
export function Orders({ api }: { api: string }) {
  const fetch = useAuthFetch()
  const orders = useQuery({
    queryKey: ['orders'],
    queryFn: async (): Promise<Order[]> => {
      const response = await fetch(`${api}/api/orders`)
      if (!response.ok) throw new Error(`GET /api/orders: HTTP ${response.status}`)
      return response.json()
    },
  })
  if (orders.isPending) return <p>Loading orders…</p>
  if (orders.isError) return <p role="alert">{orders.error.message}</p>
  return (
    <ul aria-label="orders">
      {orders.data.map((order) => (
        <li key={order.id}>
          {order.item}: {order.total}
        </li>
      ))}
    </ul>
  )
}

/** Who the billing API says called it, and the audience of the token it took: never the token. */
interface BillingCaller {
  name: string
  aud: string
}

/** The billing API, called through the same `auth.fetch`: it gets a token of its own audience. */
export function Billing({ api }: { api: string }) {
  const fetch = useAuthFetch()
  const caller = useQuery({
    queryKey: ['billing'],
    queryFn: async (): Promise<BillingCaller> => {
      const response = await fetch(`${api}/api/me`)
      if (!response.ok) throw new Error(`GET /api/me (billing): HTTP ${response.status}`)
      return response.json()
    },
  })
  if (caller.isPending) return <p>Loading billing…</p>
  if (caller.isError) return <p role="alert">{caller.error.message}</p>
  return <p data-testid="billing">Billing API: a token for {caller.data.aud}</p>
}
