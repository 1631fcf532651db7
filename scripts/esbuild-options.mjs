// The esbuild settings every bundle of ssm-setup needs (the CLI, the fleet benchmark).
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

export const nodeBundle = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The SDK's ESM build: with the CJS `main` a split bundle gets undefined client classes.
  mainFields: ['module', 'main'],
  // Bundled CJS dependencies call require('node:…'); ESM output has no require of its own. (The
  // CLI's build drops it: its chunks become CommonJS scripts, given a require by the launcher.)
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  define: { __SSM_SETUP_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
};
