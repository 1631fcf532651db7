#!/usr/bin/env node
// Thin launcher: everything lives in the bundle built by `npm run build` (also run by `prepare`).
// CommonJS (bin/package.json), so that a run never starts Node's ES module loader: the bundle's
// scripts are compiled here with V8's code cache (loadBundle below, scripts/build.mjs).
// The SDK warns on every run that Node 20 support ends in 2027; the README says so once instead.
'use strict';
const { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const DIST = join(__dirname, '../dist');

// `ssm-setup --help | head` closes the pipe early; that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// `--help`, `--version` and `<command> --help` into a pipe: the answer the build rendered
// (dist/help.json, scripts/build.mjs), without loading the bundle. At a terminal commander wraps
// at its width, so there (and with SSM_SETUP_NO_HELP_CACHE) the bundle answers.
const asked = process.argv.slice(2).join(' ');
const cached =
  !process.stdout.isTTY && !process.env.SSM_SETUP_NO_HELP_CACHE && /^(?:[a-z-]+ )?(?:--help|-h|--version|-V)$/.test(asked) ? helpAnswer(asked) : undefined;
if (cached !== undefined) process.stdout.write(cached);
else run();

function helpAnswer(key) {
  try {
    return JSON.parse(readFileSync(join(DIST, 'help.json'), 'utf8'))[key];
  } catch {
    return undefined; // not built yet, or an older build: the bundle answers
  }
}

async function run() {
  let main;
  try {
    ({ main } = loadBundle(DIST));
  } catch (err) {
    if (err?.code !== 'ENOENT' || err.path !== join(DIST, 'main.cjs')) throw err;
    process.stderr.write('ssm-setup: dist/ is missing; run `npm run build` first.\n');
    process.exit(70);
  }
  // Ctrl-C: the first stops the run after the AWS call in flight (main reports what was done, exit
  // 130); a second quits at once. At a prompt the prompt itself ends the run (exit 130).
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (!interrupt.signal.aborted) return interrupt.abort();
    process.stderr.write('\n');
    process.exit(130);
  });
  process.exitCode = await main(process.argv, { signal: interrupt.signal });
}

/**
 * Loads the bundle's CommonJS scripts (dist/main.cjs and the dist/chunks/*.cjs it requires) and
 * returns main's exports. Each script is compiled with the V8 code cache of its previous compile,
 * `dist/.v8-cache/<build>/<name>` (the build's id heads main.cjs: a rebuilt script never gets an
 * older script's cache). A script without a cache, or whose cache V8 refuses (another Node
 * version, other V8 flags), is compiled from its source, and its cache is written at exit, when
 * it holds every function the run compiled; where dist/ is not writable nothing is written.
 * SSM_SETUP_NO_CODE_CACHE=1 neither reads nor writes caches. Each script runs in strict mode, as
 * the ES module it was built from did.
 */
function loadBundle(dist) {
  const mainFile = join(dist, 'main.cjs');
  const mainSource = readFileSync(mainFile, 'utf8');
  const build = /^\/\/ ssm-setup build (\w+)\n/.exec(mainSource)?.[1];
  const cacheRoot = join(dist, '.v8-cache');
  const cacheDir = build && !process.env.SSM_SETUP_NO_CODE_CACHE ? join(cacheRoot, build) : undefined;
  const builtin = createRequire(mainFile);
  const loaded = new Map();
  const uncached = [];
  if (cacheDir) process.once('exit', () => writeCaches(cacheRoot, cacheDir, uncached));
  const load = (file, given) => {
    const known = loaded.get(file);
    if (known) return known.exports;
    const module = { exports: {} };
    loaded.set(file, module);
    const source = given ?? readFileSync(file, 'utf8');
    const cacheFile = cacheDir && join(cacheDir, basename(file));
    const cachedData = cacheFile && readIfThere(cacheFile);
    const script = new Script(`(function (exports, require, module) {'use strict';${source}\n})`, { filename: file, cachedData });
    if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) uncached.push({ script, cacheFile });
    const here = dirname(file);
    const requireHere = (id) => (id.startsWith('.') ? load(join(here, id)) : builtin(id));
    script.runInThisContext().call(undefined, module.exports, requireHere, module);
    return module.exports;
  };
  return load(mainFile, mainSource);
}

function readIfThere(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Each cache to a temporary file, then renamed: a run reading it meanwhile sees none or all of it.
 * The caches of other builds (dist/ overwritten in place) go.
 */
function writeCaches(cacheRoot, cacheDir, uncached) {
  if (uncached.length === 0) return;
  try {
    mkdirSync(cacheDir, { recursive: true });
    for (const other of readdirSync(cacheRoot)) if (other !== basename(cacheDir)) rmSync(join(cacheRoot, other), { recursive: true, force: true });
    for (const { script, cacheFile } of uncached) {
      const temp = `${cacheFile}.${process.pid}`;
      const fd = openSync(temp, 'w'); // before serializing: an unwritable dist/ costs nothing more
      try {
        writeFileSync(fd, script.createCachedData());
      } finally {
        closeSync(fd);
      }
      renameSync(temp, cacheFile);
    }
  } catch {
    // read-only install, full disk: the next run compiles from source again
    for (const { cacheFile } of uncached) {
      try {
        unlinkSync(`${cacheFile}.${process.pid}`);
      } catch {}
    }
  }
}
