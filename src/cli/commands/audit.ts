import type { Command } from 'commander';
import { type AwsClients, throwIfInterrupted } from '../../aws/clients.js';
import { toStepError } from '../../aws/errors.js';
import type { LoadedSettings } from '../../config/load.js';
import type { Io } from '../../core/io.js';
import type { RunReport } from '../../core/report.js';
import type { ReadContext } from '../../core/step.js';
import { ExitCode } from '../exit-codes.js';
import { openSession } from '../session.js';
import { readOnlyFan } from './read-only-fan.js';

/**
 * `ssm-setup audit`: read-only; each session of the window matched with the records its
 * preferences require (src/audit). Exit 3 when a shell session lacks one, else 0; `ok` follows.
 */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const { historyWarning, parseSince, runAudit } = await import('../../audit/index.js');
  const given = cmd.opts<{ since?: string }>().since;
  const now = new Date();
  // A bad --since is exit 2 before anything else, AWS calls included.
  const since = parseSince(given, now);
  const { loaded, aws } = await openSession(cmd, io);
  const far = historyWarning(since, now);
  if (far) io.warn(far);
  const work = (l: LoadedSettings, clients: AwsClients, tio: Io) => auditReport(l, clients, tio, { since, given, runAudit });
  const base = () => ['ssm-setup audit', ...(given ? [`--since ${given}`] : [])].join(' ');
  const fanned = await readOnlyFan('audit', loaded, aws, io, (t) => work(t.loaded, t.aws, t.io), base);
  if (fanned !== undefined) return fanned;
  const report = await work(loaded, aws, io);
  throwIfInterrupted(io.signal);
  io.result(report);
  return report.ok ? ExitCode.Ok : ExitCode.ChangesPending;
}

/** The audit of one account and region. */
async function auditReport(
  loaded: LoadedSettings,
  aws: AwsClients,
  io: Io,
  { since, given, runAudit }: { since: Date; given?: string; runAudit: typeof import('../../audit/index.js').runAudit },
): Promise<RunReport> {
  const identity = await aws.identity();
  const region = aws.target.region;
  const ctx: ReadContext = { settings: loaded.settings, sources: loaded.sources, identity, region, outputs: {}, aws, targets: async () => [] };
  const rerun = ['ssm-setup audit', ...(given ? [`--since ${given}`] : []), `--region ${region}`].join(' ');
  const result = await io
    .task('Matching each session with its records', () => runAudit(ctx, { since }))
    .catch((err: unknown) => {
      throw toStepError('audit', err, rerun);
    });
  for (const w of result.warnings) io.warn(w);
  // `ok` follows the exit code: false whenever audit exits 3.
  return {
    command: 'audit',
    account: identity.account,
    region,
    ok: result.summary.missing === 0,
    steps: [],
    since: result.since.toISOString(),
    sessions: result.sessions,
    summary: result.summary,
  };
}
