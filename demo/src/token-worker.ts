// The demo's token worker: the default one, but for the mock provider, whose handlers answer the
// worker's requests here. MSW's service worker answers the page's requests only: a worker's
// requests go to the network, where no provider listens in this demo.
import { serveMockTokenWorker } from '@spa-auth/mocks/worker'
import { idp } from './mock-idp'

serveMockTokenWorker(idp)
