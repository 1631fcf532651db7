import type { Command } from 'commander';
import type { Io } from '../../core/io.js';
import type { RunReport } from '../../core/report.js';
import type { StepEntry } from '../../engine/catalog.js';
import { STEPS } from '../../engine/catalog.js';
import { confirmChanges } from '../../engine/confirm.js';
import { type Fan, selectTargets, type Target } from '../../engine/fan-targets.js';
import { fanOut } from '../../engine/fanout.js';
import { planKey } from '../../engine/planning.js';
import { rerunCommand } from '../../engine/rerun.js';
import { type RunOptions, type RunResult, runSteps } from '../../engine/runner.js';
import { exitCodeOfReport } from '../exit-codes.js';
import { openSession, type Session } from '../session.js';

type CommandOptions = Pick<RunOptions, 'command' | 'mode' | 'wizard'> & { selected: readonly StepEntry[] };

/**
 * Shared by init, plan and run: open the session, run the chosen steps, show the result. Every
 * apply takes the region's lease before its first write (`--force-unlock` clears a stale one first).
 */
export async function runCommand(cmd: Command, io: Io, command: CommandOptions): Promise<{ result: RunResult; exitCode: number }> {
  const session = await openSession(cmd, io);
  const flags = cmd.opts<{ forceUnlock?: boolean; resetDefaults?: boolean }>();
  const opts = {
    ...command,
    lease: command.mode === 'apply' ? { forceUnlock: flags.forceUnlock === true } : undefined,
    resetDefaults: flags.resetDefaults === true,
  };
  const fan = await selectTargets(session.loaded, session.aws, io);
  if (fan) return runFan(fan, session, io, opts);
  const result = await runSteps({ ...opts, catalog: STEPS, loaded: session.loaded, aws: session.aws, io });
  io.result(result.report);
  return { result, exitCode: exitCodeOfReport(result.report) };
}

/**
 * Several accounts (`--accounts`, `--organization`) and/or regions (`--regions`): every target
 * is planned before any is applied, the combined plan is shown and confirmed once (never when
 * nothing changes), then the targets apply, a few at once (engine/fanout.ts). A failure in one
 * target does not stop the others; the run exits 1 at the end, naming each.
 */
async function runFan(fan: Fan, session: Session, io: Io, opts: CommandOptions & Pick<RunOptions, 'lease' | 'resetDefaults'>) {
  const { loaded } = session;
  const ids = opts.command === 'run' ? STEPS.filter((s) => opts.selected.includes(s)).map((s) => s.id) : [];
  const verifies = opts.selected.some((s) => s.id === 'check');
  let shown = false;
  const combined = await fanOut(fan, {
    command: opts.command,
    io,
    rerun: (failed) => rerunOf(fan, opts, ids, session, failed),
    plan: async (t) => {
      const run = (mode: RunOptions['mode'], confirm?: RunOptions['confirm']) =>
        runSteps({ ...opts, mode, wizard: false, catalog: STEPS, loaded: t.loaded, aws: t.aws, io: t.io, ...(confirm ? { confirm } : {}) });
      const { report } = await run('plan');
      const pending = report.steps.some((s) => s.changes.length);
      if (opts.mode === 'plan' || !report.ok || !(pending || verifies)) return { report };
      const confirmed = planKey(report);
      // Confirmed with all the others; asked again, for this target, only when its plan changed meanwhile.
      const gate: RunOptions['confirm'] = async (changes, now) => {
        if (planKey(now) === confirmed) return;
        io.warn(`${t.label}: the account changed since the plan was shown (another run?): this is its plan now.`);
        io.plan({ ...now, account: t.account, region: t.region });
        await confirmChanges(changes, io, 'fanout.apply-replanned', ` in ${t.label}`);
      };
      return { report, apply: async () => (await run('apply', gate)).report };
    },
    between: async (plan) => {
      shown = true;
      io.plan(plan);
      if (opts.mode === 'plan') return false;
      const changes = plan.steps.flatMap((s) => s.changes);
      if (changes.length) await confirmChanges(changes, io, 'fanout.apply', ` ${where(plan, fan)}`);
      return true;
    },
  });
  // Nothing to confirm (a plan, or no target with changes): the combined plan is shown once all the same.
  if (!shown) io.plan(combined);
  io.result(combined);
  const result: RunResult = { report: combined, loaded };
  return { result, exitCode: exitCodeOfReport(combined) };
}

/** The command that reruns the failed targets: by `--accounts` in a run over accounts; one failed region alone, with its own IAM names. */
function rerunOf(fan: Fan, opts: CommandOptions, ids: readonly string[], session: Session, failed: readonly Target[]): string {
  const accounts = fan.byAccount ? [...new Set(failed.map((t) => t.account))] : undefined;
  const regions = [...new Set(failed.map((t) => t.region))];
  if (regions.length === 1 && fan.byRegion)
    return rerunCommand(opts.command, ids, failed[0]!.loaded, { region: regions[0], ...(accounts ? { accounts } : {}) });
  return rerunCommand(opts.command, ids, session.loaded, { ...(fan.byRegion ? { regions } : {}), ...(accounts ? { accounts } : {}) });
}

/** `in 2 accounts` / `in 3 regions`: where the plan changes something. */
function where(plan: RunReport, fan: Fan): string {
  const changed = plan.steps.filter((s) => s.changes.length);
  const n = new Set(changed.map((s) => (fan.byAccount ? s.account : s.region))).size;
  const noun = fan.byAccount ? 'account' : 'region';
  return `in ${n} ${noun}${n === 1 ? '' : 's'}`;
}
