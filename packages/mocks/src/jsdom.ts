// `@spa-auth/mocks/jsdom`: a Vitest setup file for tests in jsdom (`setupFiles`).
// jsdom puts its own ArrayBuffer, typed arrays, Blob and File on globalThis; Node's crypto and
// TextEncoder return buffers of Node's realm, and `instanceof` checks across the two fail (in
// oauth4webapi's PKCE, for one: "input.subarray is not a function"). In a browser there is one
// realm: put Node's constructors back so jsdom behaves like one.
import { Blob, File } from 'node:buffer'

const nodeBytes = new TextEncoder().encode('')
const nodeRealm = {
  Uint8Array: nodeBytes.constructor,
  ArrayBuffer: nodeBytes.buffer.constructor,
  Blob,
  File,
  // jsdom's FormData refuses Node's Blob; take the FormData that Node's own fetch makes.
  FormData: (
    await new Response('a=1', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }).formData()
  ).constructor,
}
Object.assign(globalThis, nodeRealm)
