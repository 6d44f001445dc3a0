import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// Served by the CDN under /console/, next to /player/ and /api/ (same origin).
export default defineConfig({
  base: '/console/',
  plugins: [
    vue(),
    AutoImport({ resolvers: [ElementPlusResolver()], dts: 'src/auto-imports.d.ts' }),
    Components({ resolvers: [ElementPlusResolver()], dts: 'src/components.d.ts' }),
  ],
  build: { target: 'es2020', chunkSizeWarningLimit: 800, reportCompressedSize: false },
  server: { proxy: { '/api': 'http://127.0.0.1:8001' } },
  test: { environment: 'node', include: ['tests/**/*.test.ts'] },
})
