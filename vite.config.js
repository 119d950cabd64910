import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

const root = fileURLToPath(new URL('./frontend', import.meta.url));
const backend = 'http://localhost:8000';

export default defineConfig({
  root,
  // The explorer bundles real React for graphiql: keep Preact's react→compat aliases off.
  plugins: [preact({ reactAliasesEnabled: false, prefreshEnabled: false})],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 6000,
    rolldownOptions: {
      // graphiql's "use no memo" directives are React-compiler hints, harmless once bundled.
      checks: { moduleLevelDirective: false },
      input: {
        main: resolve(root, 'index.html'),
        explorer: resolve(root, 'explorer.html'),
      },
    },
  },
  // The explorer's editor (graphiql, monaco) imports its web workers with `?worker`, which
  // the dev server's dependency pre-bundling cannot load: leave those packages to be served
  // as they are (the production build bundles them).
  optimizeDeps: {
    exclude: ['graphiql', '@graphiql/react', '@graphiql/toolkit', 'monaco-editor', 'monaco-graphql'],
    // What those packages use in CommonJS still needs pre-bundling.
    include: ['react-compiler-runtime', 'use-sync-external-store/with-selector', '@graphiql/react > react-compiler-runtime', 'nullthrows', 'set-value', 'react', 'react/jsx-runtime', 'react-dom', 'react-dom/client'],
  },
  server: {
    proxy: {
      '/graphql': backend,
      '/files': backend,
      '/dev/mail': backend,
    },
  },
  test: {
    include: ['src/**/*.test.js'],
    environment: 'node',
  },
});
