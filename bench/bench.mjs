// `npm run bench`: start-up cost of the CLI, and init (runbook steps 2 and 3) against a fresh
// moto_server, next to the same step done by hand with the AWS CLI; then the fleet path (the
// agents step on up to 500 targets) against the fake of test/helpers/fake-fleet.ts, bundled
// from bench/fleet.ts. See bench/README.md. `--json` prints one JSON object instead of the
// tables. Exit 1 when a rerun of `init` writes, or when the fleet calls do not follow the
// batches of 50.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeBundle } from '../scripts/esbuild-options.mjs';
import { motoEnv, resetMoto, startMoto } from '../scripts/moto.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin/ssm-setup.js');
const BASELINE = join(ROOT, 'bench/baseline-aws-cli.sh');
const STARTUP_RUNS = 20;
const json = process.argv.includes('--json');

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const round = (n) => Math.round(n * 10) / 10;

/** Runs a child to completion and times it; throws with its stderr when it fails. */
function timed(cmd, args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8' });
  const wall = ms(start);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  return { ms: wall, stdout: r.stdout, stderr: r.stderr };
}

/** (a) Mean and min wall time over STARTUP_RUNS, after one untimed run to warm the file cache. */
function startup(args, env) {
  timed(process.execPath, args, env);
  const times = Array.from({ length: STARTUP_RUNS }, () => timed(process.execPath, args, env).ms);
  return { meanMs: round(times.reduce((a, b) => a + b, 0) / times.length), minMs: round(Math.min(...times)) };
}

/**
 * Empties moto, then warms it with a read-only `plan`: after a reset moto rebuilds its backends
 * (STS, KMS, the managed IAM policies) on first use, which costs ~0.5 s that neither contender
 * should be charged for.
 */
async function freshAccount(endpoint) {
  await resetMoto(endpoint);
  timed(process.execPath, [CLI, 'plan'], motoEnv(endpoint));
}

/** (b) One `init --yes`, with its AWS calls counted from SSM_SETUP_CALL_LOG. */
function initRun(endpoint, logFile) {
  const { ms: wall } = timed(process.execPath, [CLI, 'init', '--yes'], motoEnv(endpoint, { SSM_SETUP_CALL_LOG: logFile }));
  const calls = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const writes = calls.filter((c) => c.write).length;
  return { ms: round(wall), calls: calls.length, reads: calls.length - writes, writes };
}

/** (c) The runbook by hand. One AWS call per `aws` command, read from the script's xtrace. */
function baseline(endpoint) {
  if (spawnSync('aws', ['--version']).error) return { skipped: 'aws CLI not found' };
  const { ms: wall, stderr } = timed('bash', [BASELINE, endpoint], motoEnv(endpoint));
  const ops = [...stderr.matchAll(/^\++ aws \S+ (\S+)/gm)].map((m) => m[1]);
  const reads = ops.filter((op) => /^(get|describe|list|head)-/.test(op)).length;
  return { ms: round(wall), calls: ops.length, reads, writes: ops.length - reads };
}

/**
 * (d) The fleet path: bench/fleet.ts bundled like the CLI (one ESM file, the SDK's ESM build, a
 * `require` for bundled CJS) into `dir`, then run with node. It talks to no endpoint: the fake
 * answers every call. Returns its table, or its JSON object with --json.
 */
async function fleet(dir) {
  const outfile = join(dir, 'fleet.mjs');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'bench/fleet.ts')],
    outfile,
    ...nodeBundle,
  });
  const env = { ...motoEnv('http://127.0.0.1:9'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const r = spawnSync(process.execPath, [outfile, ...(json ? ['--json'] : [])], { cwd: ROOT, env, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0 && r.status !== 1) throw new Error(`bench/fleet.ts exited ${r.status ?? r.signal}:\n${r.stderr}`);
  if (r.stderr.trim()) console.error(r.stderr.trim());
  return json ? JSON.parse(r.stdout) : { table: r.stdout.trimEnd(), pass: r.status === 0 };
}

function table(r) {
  const line = (label, ...cells) => `  ${label.padEnd(34)}${cells.map((c) => String(c).padStart(9)).join('')}`;
  const aws = (label, x) => line(label, x.ms.toFixed(1), x.calls, x.reads, x.writes);
  const { node, cli, ratio } = r.startup;
  return [
    `Start-up, ${r.startup.runs} runs each`.padEnd(36) + ['mean ms', 'min ms'].map((h) => h.padStart(9)).join(''),
    line('node -e 0', node.meanMs.toFixed(1), node.minMs.toFixed(1)),
    line('node bin/ssm-setup.js --help', cli.meanMs.toFixed(1), cli.minMs.toFixed(1)),
    line('ratio ssm-setup / node (mean)', `${ratio.toFixed(2)}x`),
    '',
    'init against moto (all available steps)'.padEnd(36) + ['wall ms', 'calls', 'reads', 'writes'].map((h) => h.padStart(9)).join(''),
    aws('ssm-setup init --yes (first)', r.ssmSetup.first),
    aws('ssm-setup init --yes (rerun)', r.ssmSetup.rerun),
    r.baseline.skipped ? `  baseline skipped: ${r.baseline.skipped}` : aws('aws CLI by hand (baseline script)', r.baseline),
  ].join('\n');
}

const moto = await startMoto();
let stopping;
const stopMoto = () => (stopping ??= moto.stop()); // by PID, once, whether from finally or Ctrl-C
process.once('SIGINT', () => void stopMoto().finally(() => process.exit(130)));
const tmp = mkdtempSync(join(tmpdir(), 'ssm-setup-bench-'));

try {
  const env = motoEnv(moto.endpoint);
  const node = startup(['-e', '0'], env);
  const cli = startup([CLI, '--help'], env);

  await freshAccount(moto.endpoint);
  const first = initRun(moto.endpoint, join(tmp, 'first.jsonl'));
  const rerun = initRun(moto.endpoint, join(tmp, 'rerun.jsonl'));

  await freshAccount(moto.endpoint); // the baseline starts from the same empty, warm account
  const base = baseline(moto.endpoint);

  const fleetResult = await fleet(tmp);

  const result = {
    startup: { runs: STARTUP_RUNS, node, cli, ratio: Math.round((cli.meanMs / node.meanMs) * 100) / 100 },
    ssmSetup: { first, rerun },
    baseline: base,
    ...(json ? { fleet: fleetResult } : {}),
    pass: rerun.writes === 0 && fleetResult.pass,
  };
  console.log(json ? JSON.stringify(result) : `${table(result)}\n\n${fleetResult.table}`);
  if (json && base.skipped) console.error(`baseline skipped: ${base.skipped}`);
  if (rerun.writes !== 0) {
    // With --json, stdout stays one JSON object; the verdict goes to stderr.
    (json ? console.error : console.log)(`FAIL: the rerun of init --yes made ${rerun.writes} write call(s); it must make none`);
  }
  // bench/fleet.ts printed its own FAIL line (in its table, or on stderr with --json).
  if (!result.pass) process.exitCode = 1;
} catch (err) {
  console.error(`bench failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  await stopMoto();
  rmSync(tmp, { recursive: true, force: true });
}
