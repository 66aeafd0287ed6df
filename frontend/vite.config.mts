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
  oxc: { jsx: { runtime: 'automatic', development: false } },
  // Always React's production build and JSX runtime: Vite would take NODE_ENV from the environment (jest sets
  // it to `test`), and the build the tests drive must be, byte for byte, the one that ships.
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No source maps: the site is public behind its sign-in, and its maps would be too.
    sourcemap: false,
    // One file per screen family would be premature: the whole SPA is under 200 KB gzipped.
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
