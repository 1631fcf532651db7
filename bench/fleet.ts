// The fleet paths at scale: the `agents` step (SSM Agent update + CloudWatch agent install) and
// `check` on 50, 500 and 2,000 targets, against the stateful fakes of test/helpers (moto has no
// Run Command invocations nor instance information). Prints the wall time and the AWS calls by
// operation, then (agents) a converged rerun. The calls must grow with the batches of 50, not
// with the instances (GetConnectionStatus, which takes one target, aside), and the wall time no
// faster than linearly: exit 1 otherwise. Bundled and run by bench/bench.mjs; `--json` prints one object.
import { runTiming } from '../src/aws/fleet.js';
import { runChecks } from '../src/check/index.js';
import { agentsStep } from '../src/steps/agents/index.js';
import { fakeAccount } from '../test/helpers/fake-account.js';
import { fakeFleet } from '../test/helpers/fake-fleet.js';
import { makeContext } from '../test/helpers/fixtures.js';
import { TestIo } from '../test/helpers/test-io.js';

const SIZES = [50, 500, 2000];
const OPS = ['DescribeInstanceInformation', 'SendCommand', 'ListCommandInvocations', 'GetCommandInvocation', 'CreateTags'] as const;
const json = process.argv.includes('--json');

// Real timers, short polls: the fake moves an invocation on per poll, not per second.
Object.assign(runTiming, { firstPollMs: 1, maxPollMs: 4 });

interface Run {
  path: 'agents';
  targets: number;
  batches: number;
  ms: number;
  calls: Record<string, number>;
  total: number;
  commands: number;
  failed: number;
  rerun: { ms: number; calls: Record<string, number>; total: number; changes: number };
  /** What batching by 50 predicts; the run passes when the calls match it. */
  expected: Record<string, number>;
  pass: boolean;
}

const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
const round = (n: number) => Math.round(n * 10) / 10;
const diff = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)])
      .filter(([, v]) => (v as number) > 0),
  );

async function bench(n: number): Promise<Run> {
  const fleet = fakeFleet();
  try {
    fleet.addMany(n);
    const batches = Math.ceil(n / 50);
    const start = performance.now();
    const ctx = await makeContext({}, new TestIo(), fleet.targets());
    const state = await agentsStep.read(ctx);
    const changes = agentsStep.plan(state, ctx);
    let failed = 0;
    await agentsStep.apply(ctx, state, changes).catch(() => {
      failed = [...fleet.commands.values()].flatMap((c) => c.invocations).filter((v) => v.status !== 'Success').length;
    });
    const ms = performance.now() - start;
    const calls = fleet.calls();

    // The rerun sees the tags and the updated agents: reads only, no command.
    const again = performance.now();
    const ctx2 = await makeContext({}, new TestIo(), fleet.targets());
    const rerunChanges = agentsStep.plan(await agentsStep.read(ctx2), ctx2);
    const rerunMs = performance.now() - again;
    const rerunCalls = diff(fleet.calls(), calls);

    const expected = {
      DescribeInstanceInformation: batches,
      SendCommand: 2 * batches,
      ListCommandInvocations: 2 * 3 * batches,
      GetCommandInvocation: 0,
      CreateTags: batches,
    };
    const pass =
      failed === 0 &&
      OPS.every((op) => (calls[op] ?? 0) === expected[op]) &&
      rerunChanges.length === 0 &&
      sum(rerunCalls) === batches &&
      rerunCalls.DescribeInstanceInformation === batches;
    return {
      path: 'agents',
      targets: n,
      batches,
      ms: round(ms),
      calls,
      total: sum(calls),
      commands: fleet.commands.size,
      failed,
      rerun: { ms: round(rerunMs), calls: rerunCalls, total: sum(rerunCalls), changes: rerunChanges.length },
      expected,
      pass,
    };
  } finally {
    fleet.restore();
  }
}

/** One kind of call per target, by API: GetConnectionStatus names one target. */
const PER_TARGET = new Set(['SSM.GetConnectionStatus']);

interface CheckRun {
  path: 'check';
  targets: number;
  batches: number;
  ms: number;
  calls: Record<string, number>;
  total: number;
  /** The most calls of one batched kind of read, per batch of 50 (must not grow with the size). */
  perBatch: number;
  pass: boolean;
}

/** `check` of n managed, Online targets, each with its own instance profile, in a set-up account. */
async function benchCheck(n: number): Promise<CheckRun> {
  const account = fakeAccount();
  try {
    account.fleet.addMany(n, { isLatest: true });
    const batches = Math.ceil(n / 50);
    const ctx = await makeContext({}, new TestIo(), account.fleet.targets());
    const start = performance.now();
    await runChecks(ctx, await ctx.targets());
    const ms = performance.now() - start;
    const calls: Record<string, number> = {};
    for (const c of account.calls()) calls[c] = (calls[c] ?? 0) + 1;
    const batched = Object.entries(calls).filter(([op]) => !PER_TARGET.has(op));
    const perBatch = Math.max(0, ...batched.map(([, v]) => v / batches));
    return { path: 'check', targets: n, batches, ms: round(ms), calls, total: sum(calls), perBatch: round(perBatch), pass: true };
  } finally {
    account.restore();
  }
}

/** Calls and wall time grow no faster than the targets: from one size to the next, at most 1.25× the growth of the size. */
function linear(runs: readonly { targets: number; ms: number; total: number }[]): boolean {
  return runs.every((r, i) => {
    const prev = runs[i - 1];
    if (!prev) return true;
    const growth = (r.targets / prev.targets) * 1.25;
    return r.total / prev.total <= growth && r.ms / Math.max(prev.ms, 1) <= growth;
  });
}

function table(runs: Run[], checks: CheckRun[]): string {
  const heads = ['targets', 'batches', 'wall ms', 'Describe', 'Send', 'ListInv', 'GetInv', 'Tags', 'total', 'per inst', 'rerun'];
  const row = (cells: (string | number)[]) => `  ${cells.map((c, i) => String(c).padStart(i ? 9 : 7)).join('')}`;
  return [
    `agents on the fake fleet (update + CloudWatch install; polls ${runTiming.firstPollMs}-${runTiming.maxPollMs} ms, ${runTiming.inFlight} commands in flight)`,
    row(heads),
    ...runs.map((r) =>
      row([r.targets, r.batches, r.ms.toFixed(1), ...OPS.map((op) => r.calls[op] ?? 0), r.total, (r.total / r.targets).toFixed(2), r.rerun.total]),
    ),
    '  Describe = DescribeInstanceInformation, Send = SendCommand, ListInv = ListCommandInvocations,',
    '  GetInv = GetCommandInvocation (per-instance polling: must stay 0), Tags = EC2 CreateTags;',
    '  rerun = calls of the converged second run (reads only, no command).',
    '',
    'check on a set-up fake account (managed, Online targets, one instance profile each)',
    row(['targets', 'batches', 'wall ms', 'total', 'per batch', 'ConnStat']),
    ...checks.map((c) => row([c.targets, c.batches, c.ms.toFixed(1), c.total, c.perBatch, c.calls['SSM.GetConnectionStatus'] ?? 0])),
    '  per batch = the most calls of one batched kind of read per batch of 50; ConnStat = GetConnectionStatus (one target per call, by API).',
  ].join('\n');
}

await bench(1); // warm-up: module initialisation is not charged to the first size
await benchCheck(1);
const runs: Run[] = [];
for (const n of SIZES) runs.push(await bench(n));
const checks: CheckRun[] = [];
// Best of two: a garbage collection of the runs before must not be charged to one size.
for (const n of SIZES) checks.push([await benchCheck(n), await benchCheck(n)].sort((x, y) => x.ms - y.ms)[0]!);
// check: every batched kind of read costs the same per batch at every size.
const checkBatched = checks.every((c) => c.perBatch <= checks[0]!.perBatch + 1e-9);
const linearAgents = linear(runs);
const linearCheck = linear(checks);
const pass = runs.every((r) => r.pass) && checkBatched && linearAgents && linearCheck;
const timing = { firstPollMs: runTiming.firstPollMs, maxPollMs: runTiming.maxPollMs, inFlight: runTiming.inFlight };
console.log(
  json ? JSON.stringify({ timing, runs: [...runs, ...checks], linear: { agents: linearAgents, check: linearCheck }, checkBatched, pass }) : table(runs, checks),
);
if (!pass) {
  const bad = runs
    .filter((r) => !r.pass)
    .map((r) => `${r.targets} targets: got ${JSON.stringify(r.calls)}, rerun ${JSON.stringify(r.rerun)}; expected ${JSON.stringify(r.expected)}`);
  if (!checkBatched) bad.push(`check: calls per batch ${checks.map((c) => c.perBatch).join(', ')}`);
  if (!linearAgents || !linearCheck) bad.push(`wall time or calls grow faster than the targets (agents ${linearAgents}, check ${linearCheck})`);
  (json ? console.error : console.log)(`FAIL: the fleet calls do not follow the batches of 50:\n  ${bad.join('\n  ')}`);
  process.exitCode = 1;
}
