import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Development: `npm run dev` proxies /graphql and /dashboard-config.json to a running hub (HUB_URL, default the test hub on 4100).
const hub = process.env.HUB_URL ?? 'http://127.0.0.1:4100';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    // ECharts (≈190 KB gzipped) is one lazy chunk, loaded only by views with charts, never on first load.
    chunkSizeWarningLimit: 700,
    target: 'es2022',
    // Keep the (CSP-forbidden) module preload polyfill out: it is an inline script in some setups.
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        manualChunks: (id) => {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts';
          if (id.includes('node_modules/react') || id.includes('node_modules/scheduler')) return 'react';
          return undefined;
        },
      },
    },
  },
  server: {
    host: '127.0.0.1',
    port: 4104,
    strictPort: true,
    proxy: {
      '/graphql': { target: hub, changeOrigin: false },
      // The sign-in settings come from the hub's configuration.
      '/dashboard-config.json': { target: hub, changeOrigin: false },
    },
  },
});
