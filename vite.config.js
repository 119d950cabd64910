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
