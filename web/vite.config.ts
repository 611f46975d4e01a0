// Builds the page into web/dist/, which `stepbox serve` hands out as static files.
// Run from the repository root as `vite build web`: this file is found because web/
// is the root, and every path below is made absolute so the working directory does not matter.
//
// There is no dev server setup on purpose: the lab's WebSocket accepts only its own
// origin and its own cookie, so the page must come from `stepbox serve`. To work on the
// page, run `npx vite build web --watch` beside `stepbox serve` and reload the tab.
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { precompress } from './precompress.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  // Relative asset URLs: the page works whatever path the server mounts it at.
  base: './',
  // No svelte.config.js: the defaults (TypeScript in <script lang="ts">, runes) are what we use.
  plugins: [svelte({ configFile: false }), precompress(here('dist'))],
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    // xterm alone is ~400 kB; the page is served from localhost, so one bundle is fine.
    chunkSizeWarningLimit: 1200,
    // Brotli at its highest level takes a second or two at the end of the build, on
    // purpose (web/precompress.ts): not worth a warning in every build's output.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
