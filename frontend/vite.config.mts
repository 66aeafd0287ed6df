import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The admin SPA: static files in dist/, served at `/` by the local stack and
 * by CloudFront. No dev server in the contract: `npm start` serves the build,
 * so what people use locally is byte for byte what is deployed.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // React's automatic runtime, compiled by Vite's own transformer (no Babel plugin needed without fast refresh).
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // One file per screen family would be premature: the whole SPA is ~100 KB gzipped.
    chunkSizeWarningLimit: 800,
    rolldownOptions: {
      onwarn(warning, warn) {
        // React Server Components' "use client" markers mean nothing in a client-only bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  logLevel: 'warn',
});
