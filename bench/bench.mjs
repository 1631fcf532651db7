// `npm run bench`: start-up of the CLI against bare node; the server-side run (`run kms-key
// log-bucket instance-role operator-policy preferences --yes`) and its converged rerun against a
// fresh moto_server, straight and through a loopback proxy that answers every call after 100 ms
// (calls in flight together overlap), next to the runbook's AWS CLI script under the same two
// conditions; then the fleet paths (agents and check on 50, 500 and 2,000 targets) against the
// fakes of test/helpers, bundled from bench/fleet.ts. See bench/README.md. `--json` prints one
// JSON object instead of the tables. Exit 1 when a target of issue 15 is missed.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeBundle } from '../scripts/esbuild-options.mjs';
import { motoEnv, resetMoto, startMoto } from '../scripts/moto.mjs';
import { startLatencyProxy } from './latency-proxy.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin/ssm-setup.js');
const BASELINE = join(ROOT, 'bench/baseline-aws-cli.sh');
const STARTUP_PAIRS = 21;
const RTT_MS = 100;
const STEPS = ['kms-key', 'log-bucket', 'instance-role', 'operator-policy', 'preferences'];
/** The targets of issue 15, as measured here. */
const TARGET = { speedup: 10, rerunSlackRtts: 3, firstCalls: 30, rerunCalls: 20, startupRatio: 1.2 };
const json = process.argv.includes('--json');

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const round = (n) => Math.round(n * 10) / 10;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs a child to completion and times it; throws with its stderr when it fails. */
function timed(cmd, args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8' });
  const wall = ms(start);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  return { ms: wall, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The same, without blocking this process: the latency proxy lives here and must answer while
 * the child runs.
 */
function timedAsync(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wall = ms(start);
      if (code !== 0) reject(new Error(`${[cmd, ...args].join(' ')} exited ${code ?? signal}:\n${stderr}`));
      else resolve({ ms: wall, stdout, stderr });
    });
  });
}

/**
 * (a) Start-up: `node -e 0`, `--help` and `--version` run one after the other, STARTUP_PAIRS
 * times (after one untimed round that warms the file cache); the ratio is the median of the
 * per-round ratios, so a slow moment of the machine weighs on both sides of a pair.
 */
function startup(env) {
  const round1 = () =>
    [
      ['-e', '0'],
      [CLI, '--help'],
      [CLI, '--version'],
    ].map((args) => timed(process.execPath, args, env).ms);
  round1();
  const rounds = Array.from({ length: STARTUP_PAIRS }, round1);
  const col = (i) => round(median(rounds.map((r) => r[i])));
  const ratio = (i) => Math.round(median(rounds.map((r) => r[i] / r[0])) * 100) / 100;
  return { pairs: STARTUP_PAIRS, nodeMs: col(0), helpMs: col(1), versionMs: col(2), helpRatio: ratio(1), versionRatio: ratio(2) };
}

/**
 * Empties moto, then warms it with a read-only `plan`: after a reset moto rebuilds its backends
 * (STS, KMS, the managed IAM policies) on first use, which neither contender should be charged for.
 */
async function freshAccount(endpoint) {
  await resetMoto(endpoint);
  timed(process.execPath, [CLI, 'plan'], motoEnv(endpoint));
}

/** (b) One server-side run through `proxy`, with its logical calls (SSM_SETUP_CALL_LOG) and its longest chain. */
async function serverRun(proxy, logFile) {
  proxy.reset();
  const { ms: wall } = await timedAsync(process.execPath, [CLI, 'run', ...STEPS, '--yes'], motoEnv(proxy.url, { SSM_SETUP_CALL_LOG: logFile }));
  const calls = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const writes = calls.filter((c) => c.write).length;
  return { ms: round(wall), calls: calls.length, reads: calls.length - writes, writes, chain: proxy.stats().chain };
}

/** (c) The runbook by hand, through `proxy`. One AWS call per `aws` command, read from the script's xtrace. */
async function baseline(proxy) {
  proxy.reset();
  const { ms: wall, stderr } = await timedAsync('bash', [BASELINE, proxy.url], motoEnv(proxy.url));
  const ops = [...stderr.matchAll(/^\++ aws \S+ (\S+)/gm)].map((m) => m[1]);
  const reads = ops.filter((op) => /^(get|describe|list|head)-/.test(op)).length;
  return { ms: round(wall), calls: ops.length, reads, writes: ops.length - reads, chain: proxy.stats().chain };
}

/** The three rows of one condition (`delayMs` per answer): first run, converged rerun, runbook script. */
async function condition(moto, delayMs, tmp) {
  const proxy = await startLatencyProxy(moto.endpoint, delayMs);
  try {
    await freshAccount(moto.endpoint);
    const first = await serverRun(proxy, join(tmp, `first-${delayMs}.jsonl`));
    const rerun = await serverRun(proxy, join(tmp, `rerun-${delayMs}.jsonl`));
    let script = { skipped: 'aws CLI not found' };
    if (!spawnSync('aws', ['--version']).error) {
      await freshAccount(moto.endpoint); // the script starts from the same empty, warm account
      script = await baseline(proxy);
    }
    return { rttMs: delayMs, first, rerun, baseline: script };
  } finally {
    await proxy.close();
  }
}

/**
 * (d) The fleet paths: bench/fleet.ts bundled like the CLI (one ESM file, the SDK's ESM build, a
 * `require` for bundled CJS) into `dir`, then run with node. It talks to no endpoint: the fakes
 * answer every call. Returns its table, or its JSON object with --json.
 */
async function fleet(dir) {
  const outfile = join(dir, 'fleet.mjs');
  await build({ absWorkingDir: ROOT, entryPoints: [join(ROOT, 'bench/fleet.ts')], outfile, ...nodeBundle });
  const env = { ...motoEnv('http://127.0.0.1:9'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const r = spawnSync(process.execPath, [outfile, '--json'], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0 && r.status !== 1) throw new Error(`bench/fleet.ts exited ${r.status ?? r.signal}:\n${r.stderr}`);
  if (r.stderr.trim()) console.error(r.stderr.trim());
  return JSON.parse(r.stdout);
}

/** Each target of issue 15: what was measured, the limit, and whether it is met. */
function verdicts(r) {
  const [moto, slow] = r.server;
  const v = [];
  const add = (name, value, limit, met) => v.push({ name, value, limit, met });
  add('--help / node -e 0 (median of pairs)', r.startup.helpRatio, `<= ${TARGET.startupRatio}`, r.startup.helpRatio <= TARGET.startupRatio);
  add('--version / node -e 0 (median of pairs)', r.startup.versionRatio, `<= ${TARGET.startupRatio}`, r.startup.versionRatio <= TARGET.startupRatio);
  if (!slow.baseline.skipped) {
    const speedup = Math.round((slow.baseline.ms / slow.first.ms) * 10) / 10;
    add(`runbook script / first run at ${RTT_MS} ms`, speedup, `>= ${TARGET.speedup}`, speedup >= TARGET.speedup);
  }
  const slack = (slow.rerun.chain + TARGET.rerunSlackRtts) * RTT_MS;
  add(`rerun at ${RTT_MS} ms, ms (chain ${slow.rerun.chain} + ${TARGET.rerunSlackRtts} round trips)`, slow.rerun.ms, `<= ${slack}`, slow.rerun.ms <= slack);
  add('first-run calls', moto.first.calls, `<= ${TARGET.firstCalls}`, moto.first.calls <= TARGET.firstCalls);
  add('rerun calls', moto.rerun.calls, `<= ${TARGET.rerunCalls}`, moto.rerun.calls <= TARGET.rerunCalls);
  add('rerun writes', Math.max(moto.rerun.writes, slow.rerun.writes), '= 0', moto.rerun.writes === 0 && slow.rerun.writes === 0);
  add('fleet: calls follow the batches of 50, wall time at most linear', r.fleet.pass ? 'yes' : 'no', 'yes', r.fleet.pass);
  return v;
}

function table(r) {
  const line = (label, ...cells) => `  ${label.padEnd(36)}${cells.map((c) => String(c).padStart(9)).join('')}`;
  const row = (label, x) => (x.skipped ? `  ${label}: skipped (${x.skipped})` : line(label, x.ms.toFixed(1), x.calls, x.reads, x.writes, x.chain));
  const s = r.startup;
  const out = [
    `Start-up, median of ${s.pairs} rounds`.padEnd(38) + ['ms', 'x node'].map((h) => h.padStart(9)).join(''),
    line('node -e 0', s.nodeMs.toFixed(1), '1.00x'),
    line('node bin/ssm-setup.js --help', s.helpMs.toFixed(1), `${s.helpRatio.toFixed(2)}x`),
    line('node bin/ssm-setup.js --version', s.versionMs.toFixed(1), `${s.versionRatio.toFixed(2)}x`),
  ];
  for (const c of r.server) {
    out.push(
      '',
      `run ${STEPS.join(' ')} --yes, ${c.rttMs ? `${c.rttMs} ms per call` : 'moto as is'}`,
      ' '.repeat(38) + ['wall ms', 'calls', 'reads', 'writes', 'chain'].map((h) => h.padStart(9)).join(''),
      row('ssm-setup, first run', c.first),
      row('ssm-setup, converged rerun', c.rerun),
      row('runbook AWS CLI script', c.baseline),
    );
    if (!c.baseline.skipped) out.push(`  runbook script / ssm-setup first run: ${(c.baseline.ms / c.first.ms).toFixed(1)}x`);
  }
  out.push(
    '',
    'Fleets (fake fleet; polls 1-4 ms)',
    `  ${['path', 'targets', 'batches', 'wall ms', 'calls', 'per batch', 'rerun'].map((h, i) => h.padStart(i ? 9 : 7)).join('')}`,
  );
  for (const f of r.fleet.runs) {
    out.push(
      `  ${[f.path, f.targets, f.batches, f.ms.toFixed(1), f.total, (f.total / f.batches).toFixed(1), f.rerun?.total ?? '-'].map((c, i) => String(c).padStart(i ? 9 : 7)).join('')}`,
    );
  }
  out.push('', 'Targets (issue 15)');
  for (const t of r.targets) out.push(`  ${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.value} (${t.limit})`);
  return out.join('\n');
}

const moto = await startMoto();
let stopping;
const stopMoto = () => (stopping ??= moto.stop()); // by PID, once, whether from finally or Ctrl-C
process.once('SIGINT', () => void stopMoto().finally(() => process.exit(130)));
const tmp = mkdtempSync(join(tmpdir(), 'ssm-setup-bench-'));

try {
  const result = { startup: startup(motoEnv(moto.endpoint)), server: [] };
  for (const delay of [0, RTT_MS]) result.server.push(await condition(moto, delay, tmp));
  result.fleet = await fleet(tmp);
  result.targets = verdicts(result);
  result.pass = result.targets.every((t) => t.met);
  console.log(json ? JSON.stringify(result) : table(result));
  if (!result.pass) process.exitCode = 1;
} catch (err) {
  console.error(`bench failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  await stopMoto();
  rmSync(tmp, { recursive: true, force: true });
}
