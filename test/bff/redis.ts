// Debian's redis-server on a free port of 127.0.0.1, with nothing written to disk; stopped by its
// PID when the test ends, and when the test process exits, whatever happened.
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'

const REDIS = '/usr/bin/redis-server'

/** A port of 127.0.0.1 that nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A Redis the test owns: clients of it, a pause (SIGSTOP) and a resume, and its stop. */
export interface TestRedis {
  readonly port: number
  /** A new client; closed by {@link TestRedis.stop}. */
  client(): Redis
  /** Stops the process without closing its connections: commands hang, as on a frozen host. */
  pause(): void
  resume(): void
  stop(): Promise<void>
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort()
  const child = spawn(
    REDIS,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  running.add(child)
  const clients: Redis[] = []
  const client = () => {
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: false,
      maxRetriesPerRequest: 1,
    })
    redis.on('error', () => {}) // a paused or killed connection is what the tests are about
    clients.push(redis)
    return redis
  }
  const probe = client()
  for (let tries = 0; ; tries++) {
    try {
      await probe.ping()
      break
    } catch (error) {
      if (tries > 50 || child.exitCode !== null)
        throw new Error(`redis-server did not start: ${error}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    port,
    client,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      for (const redis of clients) redis.disconnect()
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      running.delete(child)
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
    },
  }
}
