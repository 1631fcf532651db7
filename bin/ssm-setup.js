#!/usr/bin/env node
// Thin launcher: everything lives in the bundle built by `npm run build` (also run by `prepare`).
// The SDK warns on every run that Node 20 support ends in 2027; the README says so once instead.
import { readFileSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
else await run();

function helpAnswer(key) {
  try {
    return JSON.parse(readFileSync(new URL('../dist/help.json', import.meta.url), 'utf8'))[key];
  } catch {
    return undefined; // not built yet, or an older build: the bundle answers
  }
}

async function run() {
  let main;
  try {
    ({ main } = await import('../dist/main.js'));
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
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
