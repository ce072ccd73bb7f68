// The demo's token worker: the default one, but for the mock provider, whose handlers answer the
// worker's requests here. MSW's service worker answers the page's requests only: a worker's
// requests go to the network, where no provider listens in this demo.
import './worker-globals'
import { serveTokenWorker } from '@spa-auth/core/worker'
import { getResponse } from 'msw'
import { idp } from './mock-idp'

serveTokenWorker({
  async fetch(input, init) {
    const request = new Request(input, init)
    return (await getResponse(idp.handlers, request)) ?? fetch(request)
  },
})
