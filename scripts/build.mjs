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

// The answers to `--help` and `--version` (and `<command> --help`) that do not depend on the
// terminal: rendered once here by the bundle itself, with stdout a pipe (commander then wraps
// at 80 columns), so that the launcher can print them without loading the bundle: start-up
// near bare node. At a terminal, commander wraps at its width: the launcher loads the bundle.
const { spawnSync } = await import('node:child_process');
const { writeFileSync } = await import('node:fs');
const bin = new URL('../bin/ssm-setup.js', import.meta.url).pathname;
const env = { ...process.env, SSM_SETUP_NO_HELP_CACHE: '1', NO_COLOR: '1' };
const commands = ['init', 'plan', 'run', 'ssh-config', 'check', 'audit', 'export', 'destroy'];
const asks = [
  ['--help'],
  ['-h'],
  ['--version'],
  ['-V'],
  ...commands.flatMap((c) => [
    [c, '--help'],
    [c, '-h'],
  ]),
];
const answers = {};
for (const args of asks) {
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0 || r.stderr) throw new Error(`ssm-setup ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  answers[args.join(' ')] = r.stdout;
}
writeFileSync(new URL('../dist/help.json', import.meta.url), JSON.stringify(answers));
