import { useAuth } from '@spa-auth/react'
import { createBrowserRouter, Link, type LoaderFunctionArgs, Outlet } from 'react-router'
import { auth } from './auth'
import { billing, idp } from './mock-idp'
import { Billing, Orders } from './orders'

/**
 * The guard of a protected route's loader: it waits for the session (a callback, another tab, a
 * silent sign-in), then lets the route load, or signs in and comes back to this route.
 */
export async function requireSession({ request }: LoaderFunctionArgs): Promise<null> {
  await auth.ready()
  if (auth.getState().status === 'authenticated') return null
  const { pathname, search } = new URL(request.url)
  await auth.login({ returnTo: pathname + search })
  // The page is leaving for the provider: the route stays pending until it has.
  return new Promise<never>(() => {})
}

function Layout() {
  const { isAuthenticated, user, logout } = useAuth()
  return (
    <>
      <nav>
        <Link to="/">Home</Link> · <Link to="/orders">Orders</Link>
        {isAuthenticated && (
          <>
            {' '}
            · <span data-testid="user">{user?.name}</span>{' '}
            <button type="button" onClick={() => logout()}>
              Sign out
            </button>
          </>
        )}
      </nav>
      <Outlet />
    </>
  )
}

/**
 * The app's routes; `/callback` is the `redirectUri`, shown while the sign-in completes. Made
 * once the page is ready for its loaders: a router runs them as soon as it exists.
 */
export const createAppRouter = () =>
  createBrowserRouter([
    {
      element: <Layout />,
      children: [
        { path: '/', element: <h1>Home</h1> },
        {
          path: '/orders',
          loader: requireSession,
          element: (
            <>
              <h1>Orders</h1>
              <Orders api={idp.apiOrigin} />
              <Billing api={billing.url} />
            </>
          ),
        },
        { path: '/callback', element: <p>Signing in…</p> },
        { path: '*', element: <h1>Not found</h1> },
      ],
    },
  ])
