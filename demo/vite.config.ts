import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [react()],
  // Workspace packages are read from their sources: no build step before the demo.
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  // MSW and the mock provider's JWT library make the demo large; the SDK itself is ~11 kB.
  build: { sourcemap: true, chunkSizeWarningLimit: 1000 },
})
