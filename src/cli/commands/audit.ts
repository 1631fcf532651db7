import type { Command } from 'commander';
import { toStepError } from '../../aws/errors.js';
import type { Io } from '../../core/io.js';
import type { RunReport } from '../../core/report.js';
import type { ReadContext } from '../../core/step.js';
import { ExitCode } from '../exit-codes.js';
import { openSession } from '../session.js';

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
  const identity = await aws.identity();
  const region = aws.target.region;
  const ctx: ReadContext = { settings: loaded.settings, sources: loaded.sources, identity, region, outputs: {}, aws, targets: async () => [] };
  const far = historyWarning(since, now);
  if (far) io.warn(far);

  const rerun = ['ssm-setup audit', ...(given ? [`--since ${given}`] : []), `--region ${region}`].join(' ');
  const result = await io
    .task('Matching each session with its records', () => runAudit(ctx, { since }))
    .catch((err: unknown) => {
      throw toStepError('audit', err, rerun);
    });
  for (const w of result.warnings) io.warn(w);
  const missing = result.summary.missing > 0;
  // `ok` follows the exit code: false whenever audit exits 3.
  const report: RunReport = {
    command: 'audit',
    account: identity.account,
    region,
    ok: !missing,
    steps: [],
    since: result.since.toISOString(),
    sessions: result.sessions,
    summary: result.summary,
  };
  io.result(report);
  return missing ? ExitCode.ChangesPending : ExitCode.Ok;
}
