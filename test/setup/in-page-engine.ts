// The page loads its in-page engine on demand, over the network in a browser. Tests that move
// fake time right after creating a client load it here first, so that the demand is met at once
// rather than after a real-time delay the fake clock does not see.
import '../../packages/core/src/engine/in-page.js'
import '../../packages/core/src/client/flows.js'
import '../../packages/core/src/client/channel.js'
