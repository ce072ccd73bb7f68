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
