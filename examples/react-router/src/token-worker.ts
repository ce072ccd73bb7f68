// The token worker, with the mock provider answering its requests (a real app needs no file of
// its own: the default token worker of @spa-auth/core talks to the real provider).
import { serveMockTokenWorker } from '@spa-auth/mocks/worker'
import { idp } from './mock-idp'

serveMockTokenWorker(idp)
