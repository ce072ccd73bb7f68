// The browser tests drive Debian's Chromium. Install it when it is missing (root, apt), and
// never let a tool download a browser of its own.
import { execSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const CHROMIUM = '/usr/bin/chromium'

if (!existsSync(CHROMIUM)) {
  if (process.getuid?.() !== 0) {
    console.error(`${CHROMIUM} is missing: run "sudo apt-get install -y chromium" and try again.`)
    process.exit(1)
  }
  console.log('Installing Chromium from Debian (about 40 s)…')
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
    stdio: 'inherit',
  })
}
