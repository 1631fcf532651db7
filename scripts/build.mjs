// Bundles src/cli/main.ts into dist/ with one lazy chunk per command, so `--help` loads only
// commander and the program definition, and AWS clients load with the step that needs them.
// Recipe and measurements: ../shared/design/toolchain.md §3.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  minify: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The SDK's ESM build: with the CJS `main` a split bundle gets undefined client classes.
  mainFields: ['module', 'main'],
  // Bundled CJS dependencies call require('node:…'); ESM output has no require of its own.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  define: { __SSM_SETUP_VERSION__: JSON.stringify(pkg.version) },
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
