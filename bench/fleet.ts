// The fleet path at scale: the `agents` step (SSM Agent update + CloudWatch agent install) on
// 50, 51, 100 and 500 targets against the stateful fake of test/helpers/fake-fleet.ts (moto has
// no Run Command invocations nor instance information). Prints the wall time and the AWS calls
// by operation, then a converged rerun. The calls must grow with the batches of 50, not with the
// instances: exit 1 otherwise. Bundled and run by bench/bench.mjs; `--json` prints one object.
import { runTiming } from '../src/aws/fleet.js';
import { agentsStep } from '../src/steps/agents/index.js';
import { fakeFleet } from '../test/helpers/fake-fleet.js';
import { makeContext } from '../test/helpers/fixtures.js';
import { TestIo } from '../test/helpers/test-io.js';

const SIZES = [50, 51, 100, 500];
const OPS = ['DescribeInstanceInformation', 'SendCommand', 'ListCommandInvocations', 'GetCommandInvocation', 'CreateTags'] as const;
const json = process.argv.includes('--json');

// Real timers, short polls: the fake moves an invocation on per poll, not per second.
Object.assign(runTiming, { firstPollMs: 1, maxPollMs: 4 });

interface Run {
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

function table(runs: Run[]): string {
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
  ].join('\n');
}

await bench(1); // warm-up: module initialisation is not charged to the first size
const runs: Run[] = [];
for (const n of SIZES) runs.push(await bench(n));
const pass = runs.every((r) => r.pass);
const timing = { firstPollMs: runTiming.firstPollMs, maxPollMs: runTiming.maxPollMs, inFlight: runTiming.inFlight };
console.log(json ? JSON.stringify({ timing, runs, pass }) : table(runs));
if (!pass) {
  const bad = runs
    .filter((r) => !r.pass)
    .map((r) => `${r.targets} targets: got ${JSON.stringify(r.calls)}, rerun ${JSON.stringify(r.rerun)}; expected ${JSON.stringify(r.expected)}`);
  (json ? console.error : console.log)(`FAIL: the fleet calls do not follow the batches of 50:\n  ${bad.join('\n  ')}`);
  process.exitCode = 1;
}
