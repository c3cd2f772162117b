// The sandbox's single-page app: served by the sandbox at /app/ (and /t/<tenant>/app/), so every URL is relative.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  base: './',
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000, reportCompressedSize: false },
})
