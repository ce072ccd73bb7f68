// The browser tests drive Debian's Chromium, and the BFF tests start Debian's Redis. Install what
// is missing (root, apt), and never let a tool download a browser of its own.
import { execSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const NEEDED = [
  { path: '/usr/bin/chromium', pkg: 'chromium' },
  { path: '/usr/bin/redis-server', pkg: 'redis-server' },
]

const missing = NEEDED.filter(({ path }) => !existsSync(path)).map(({ pkg }) => pkg)
if (missing.length) {
  if (process.getuid?.() !== 0) {
    console.error(`Missing: run "sudo apt-get install -y ${missing.join(' ')}" and try again.`)
    process.exit(1)
  }
  console.log(`Installing ${missing.join(' and ')} from Debian (about 40 s)…`)
  const pkgs = missing.join(' ')
  execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkgs}`, {
    stdio: 'inherit',
  })
}
