import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [react()],
  // jsdom's typed arrays beside Node's crypto: see @spa-auth/mocks' README.
  test: { environment: 'jsdom', setupFiles: ['@spa-auth/mocks/jsdom'] },
})
