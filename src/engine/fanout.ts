import { interrupted } from '../aws/clients.js';
import { toStepError } from '../aws/errors.js';
import { pool } from '../base/batch.js';
import { AbortedError, type SetupError, UsageError } from '../base/errors.js';
import type { Io } from '../core/io.js';
import { errorView, type RunReport } from '../core/report.js';
import { RegionIo } from '../ui/region-io.js';
import type { Fan, Target } from './fan-targets.js';

/**
 * One runner for every run over several accounts or regions (targets = account × region): each
 * target is prepared (its role assumed, its alias read) and planned, a few at once, all of them
 * before any writes; then, after one look at the combined plan (`between`: shown, and confirmed
 * once), the targets with something to apply apply it, a few at once. A target that cannot be
 * assumed or fails is reported with its reason and the others go on; bad input (UsageError) or
 * a declined question in any plan is thrown before any target writes.
 */

/** A target once its role is assumed: its alias, and its own Io (lines prefixed, no spinners). */
export interface Prepared extends Target {
  readonly alias?: string;
  readonly io: Io;
  /** `alias us-east-1` (or the account id): what its rows and lines are prefixed with. */
  readonly label: string;
}

/** What a target's first phase gives: its report, and the apply to run after the confirmation, if any. */
export interface TargetRun {
  readonly report: RunReport;
  readonly apply?: () => Promise<RunReport>;
}

export interface FanOptions {
  readonly command: string;
  /** The run's own Io: the combined plan, the one question and the result go there. */
  readonly io: Io;
  /** The first phase, read-only: the target's plan (check and audit: its whole report). */
  readonly plan: (t: Prepared) => Promise<TargetRun>;
  /** Between the phases, with the combined plan (shows it, asks once): true to apply. Called only when some target has an apply. */
  readonly between?: (combined: RunReport) => Promise<boolean>;
  /** The command that reruns the failed targets. */
  readonly rerun: (failed: readonly Target[]) => string;
}

/** The two phases over every target; returns the combined report (the caller shows it). */
export async function fanOut(fan: Fan, opts: FanOptions): Promise<RunReport> {
  const { io } = opts;
  const runs = new Map<Target, RunReport>();
  const applies = new Map<Target, () => Promise<RunReport>>();
  const thrown = new Map<Target, unknown>();
  const prepare = preparer(fan, io);
  const failed = (t: Target, label: string, err: unknown): RunReport => {
    const e = toStepError(opts.command, err, opts.rerun([t])) as SetupError;
    io.warn(`${label}: ${e.message}`);
    return { command: opts.command, account: t.account, region: t.region, ok: false, steps: [], error: errorView(e) };
  };
  const tagged = (p: Prepared, r: RunReport): RunReport => ({ ...r, account: p.account, ...(p.alias ? { accountAlias: p.alias } : {}), region: p.region });

  await pool(fan.targets, fan.limit, async (t) => {
    let label = `${t.account} ${t.region}`;
    try {
      const p = await prepare(t);
      label = p.label;
      const run = await opts.plan(p);
      runs.set(t, tagged(p, run.report));
      if (run.apply) applies.set(t, async () => tagged(p, await run.apply!()));
    } catch (err) {
      if (err instanceof UsageError || err instanceof AbortedError) thrown.set(t, err);
      runs.set(t, failed(t, label, err));
    }
  });
  // Every target was planned and none wrote: bad input anywhere is exit 2, a declined question 130.
  const first = fan.targets.find((t) => thrown.has(t));
  if (first) throw thrown.get(first);

  if (applies.size && opts.between && (await opts.between(combine(fan, opts, runs)))) {
    await pool([...applies], fan.limit, async ([t, apply]) => {
      try {
        if (io.signal?.aborted) throw interrupted();
        runs.set(t, await apply());
      } catch (err) {
        runs.set(t, { ...failed(t, `${t.account} ${t.region}`, err), ...keep(runs.get(t)) });
      }
    });
  }
  return combine(fan, opts, runs);
}

/** What a target's first report said of itself, kept when its apply fails outside any step. */
const keep = (r: RunReport | undefined) => (r?.accountAlias ? { accountAlias: r.accountAlias } : {});

/** Assumes each account's role once (all its regions share it) and reads its alias; the target's Io is prefixed with its label. */
function preparer(fan: Fan, io: Io) {
  const aliases = new Map<string, Promise<string | undefined>>();
  return async (t: Target): Promise<Prepared> => {
    let alias: string | undefined;
    if (fan.byAccount) {
      // One sts:AssumeRole (and one alias read) per account, whatever the number of regions.
      alias = await (aliases.get(t.account) ??
        aliases
          .set(
            t.account,
            (async () => {
              await t.aws.target.credentials?.();
              return (await import('../aws/accounts.js')).accountAlias(t.aws);
            })(),
          )
          .get(t.account)!);
    }
    const label = [fan.byAccount ? (alias ?? t.account) : undefined, fan.byRegion || fan.byAccount ? t.region : undefined].filter(Boolean).join(' ');
    return { ...t, ...(alias ? { alias } : {}), label, io: new RegionIo(io, label) };
  };
}

/** Whether a target's run failed (check and audit: `ok` false alone is a finding, not a failure). */
export const runFailed = (r: RunReport) => !!r.error || r.steps.some((s) => s.status === 'failed');

/**
 * The combined report: every step tagged with its account and region (as the rows show them),
 * one entry per target in `runs`, and a failure naming each failed target with the command that
 * reruns them.
 */
export function combine(fan: Fan, opts: Pick<FanOptions, 'command' | 'rerun'>, runs: ReadonlyMap<Target, RunReport>): RunReport {
  const reports = fan.targets.map((t) => runs.get(t)!).filter(Boolean);
  const failedTargets = fan.targets.filter((t) => runs.get(t) && runFailed(runs.get(t)!));
  const failed = failedTargets.map((t) => runs.get(t)!);
  const where = (r: RunReport) =>
    [fan.byAccount ? (r.accountAlias ?? r.account) : undefined, fan.byRegion || fan.byAccount ? r.region : undefined].filter(Boolean).join(' ');
  const firstError = failed.map((r) => r.error ?? r.steps.find((s) => s.error)?.error).find(Boolean);
  const what = fan.byAccount ? 'accounts' : 'regions';
  return {
    command: opts.command,
    account: [...new Set(fan.targets.map((t) => t.account))].join(','),
    region: [...new Set(fan.targets.map((t) => t.region))].join(','),
    ok: reports.every((r) => r.ok),
    steps: reports.flatMap((r) =>
      r.steps.map((s) => ({
        ...s,
        ...(fan.byAccount ? { account: r.account, ...(r.accountAlias ? { accountAlias: r.accountAlias } : {}) } : {}),
        ...(fan.byRegion || fan.byAccount ? { region: r.region } : {}),
      })),
    ),
    runs: reports,
    ...(failed.length
      ? {
          error: {
            code: firstError?.code ?? 'AWS_ERROR',
            message: `failed in ${failed.length} of ${reports.length}: ${failed.map((r) => `${where(r)}: ${r.error?.message ?? r.steps.find((s) => s.error)?.error?.message ?? 'failed'}`).join('; ')}`,
            hint: `the other ${what} are done; fix the failed ones and rerun \`${opts.rerun(failedTargets)}\``,
          },
        }
      : {}),
  };
}
