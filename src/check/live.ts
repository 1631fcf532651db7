import { SSMClient, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import type { Clients } from '../core/clients.js';
import { error, type Finding, ok } from '../diagnose/finding.js';
import type { TargetReport } from './index.js';

/**
 * `check --live`: a real StartSession and an immediate TerminateSession on each ready target,
 * one after the other (each session ends before the next starts). A refused start turns that
 * row to not ready; targets that are not ready are not tried. Returns the rows, in order.
 */
export async function liveSessions(aws: Clients, targets: readonly TargetReport[]): Promise<TargetReport[]> {
  const ssm = aws.get(SSMClient);
  const out: TargetReport[] = [];
  for (const t of targets) {
    if (!t.ready) {
      out.push(t);
      continue;
    }
    let finding: Finding;
    try {
      const { SessionId } = await ssm.send(new StartSessionCommand({ Target: t.instanceId, Reason: 'ssm-setup check --live' }));
      if (SessionId) await ssm.send(new TerminateSessionCommand({ SessionId }));
      finding = ok('live-session', `StartSession accepted (${SessionId}), terminated`);
    } catch (err) {
      finding = error('live-session', `StartSession refused: ${(err as Error).name}: ${(err as Error).message}`, 'see the operator findings');
    }
    out.push({ ...t, ready: finding.status === 'ok', findings: [...t.findings, finding] });
  }
  return out;
}
