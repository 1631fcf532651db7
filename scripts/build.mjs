// Bundles src/cli/main.ts into dist/ with one lazy chunk per command, so `--help` loads only
// commander and the program definition, and AWS clients load with the step that needs them.

import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { nodeBundle } from './esbuild-options.mjs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  ...nodeBundle,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist',
  splitting: true,
  minify: true,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
});
