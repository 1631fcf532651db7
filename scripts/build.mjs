// Bundles src/cli/main.ts into dist/ with one lazy chunk per command, so `--help` loads only
// commander and the program definition, and AWS clients load with the step that needs them.
//
// esbuild splits only ESM, but Node 20 compiles ES modules without a V8 code cache. So the split
// ESM output is turned, chunk by chunk, into CommonJS scripts (`.cjs`: `import` → `require`,
// `import()` → a deferred `require`) that the launcher compiles with `vm.Script` and the code
// cache of their previous compile (bin/load-bundle.cjs). Compiling ~1 MB of chunks is then mostly
// reading V8's cache instead of parsing. dist/ is wiped here, the cache in it with it.

import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { build, transform } from 'esbuild';
import { nodeBundle } from './esbuild-options.mjs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

// No `require` banner: the launcher hands each script its `require` (esbuild's shim uses it).
const { banner: _esmRequire, ...options } = nodeBundle;
const { outputFiles } = await build({
  ...options,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  splitting: true,
  minify: true,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  write: false,
});
const scripts = [];
for (const file of outputFiles) {
  const { code, warnings } = await transform(file.text, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // `import('node:http')` and the commands' `import('./chunks/…')` become require()s.
    supported: { 'dynamic-import': false },
    minify: true,
    legalComments: 'none',
    sourcefile: file.path,
  });
  if (warnings.length) throw new Error(`${file.path}: ${warnings.map((w) => w.text).join('; ')}`);
  scripts.push({ path: file.path, name: relative(resolve('dist'), file.path), code: exportsInPlace(code, file.path) });
}
// The build's id (a hash of every script) heads main.cjs: the launcher keeps the code caches of
// this build apart from any other's (V8 itself only checks that a script's length matches).
const hash = createHash('sha256');
for (const { name, code } of scripts.sort((a, b) => (a.name < b.name ? -1 : 1))) hash.update(`${name}\0${code}\0`);
const id = hash.digest('hex').slice(0, 16);
for (const { path, name, code } of scripts) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, name === 'main.cjs' ? `// ssm-setup build ${id}\n${code}` : code);
}

/**
 * esbuild's CommonJS module exports a copy of the module's exports object (`__toCommonJS`): getters
 * that call its getters, so each use of another chunk's binding costs two calls, and each chunk
 * defines every export twice (~2,700 for a converged `run`). Here a script exports that object
 * itself, marked `__esModule` as the copy was. Should esbuild emit another shape, the build fails.
 */
function exportsInPlace(code, path) {
  const id = '[\\w$]+';
  const use = new RegExp(`module\\.exports=(${id})\\((${id})\\);`).exec(code);
  if (!use) return code; // a chunk that exports nothing
  const [statement, helper, exportsObject] = use;
  const definition = new RegExp(`[\\s,;]${helper.replaceAll('$', '\\$')}=(${id})=>${id}\\(${id}\\(\\{\\},"__esModule",\\{value:!0\\}\\),\\1\\)[,;]`);
  if (!definition.test(code.slice(0, use.index))) throw new Error(`${path}: module.exports is not esbuild's __toCommonJS(exports); see exportsInPlace`);
  const inPlace = `module.exports=Object.defineProperty(${exportsObject},"__esModule",{value:!0});`;
  return code.slice(0, use.index) + inPlace + code.slice(use.index + statement.length);
}

// The answers to `--help` and `--version` (and `<command> --help`) that do not depend on the
// terminal: rendered once here by the bundle itself, with stdout a pipe (commander then wraps
// at 80 columns), so that the launcher can print them without loading the bundle: start-up
// near bare node. At a terminal, commander wraps at its width: the launcher loads the bundle.
// These runs write no code cache: the first real command writes the one it needs.
const { spawnSync } = await import('node:child_process');
const bin = new URL('../bin/ssm-setup.js', import.meta.url).pathname;
const env = { ...process.env, SSM_SETUP_NO_HELP_CACHE: '1', SSM_SETUP_NO_CODE_CACHE: '1', NO_COLOR: '1' };
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
