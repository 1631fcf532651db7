import { SSMClient, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { errorName } from '../aws/errors.js';
import type { Clients } from '../core/clients.js';
import { error, type Finding, ok, warn } from '../diagnose/finding.js';
import type { TargetReport } from './index.js';
import { findRecords, type RecordPlaces, readPlaces, recordGaps, type SessionRecords } from './records.js';

/**
 * How long `check --live` looks for the records of its sessions: the agent uploads the S3 object
 * when the session ends, so they appear some seconds after TerminateSession. Tests shorten it.
 */
export const liveRecordWait = { timeoutMs: 60_000, delayMs: 3_000 };

/**
 * `check --live`: a real StartSession and an immediate TerminateSession on each ready target,
 * one after the other (each session ends before the next starts). A refused start turns that
 * row to not ready; targets that are not ready are not tried. Then the records of the sessions
 * are looked for, as `audit` matches them (check/records.ts), polling up to
 * `liveRecordWait.timeoutMs`: one finding per destination, found or missing. `places`: the
 * preferences' destinations when the caller has them (else read here). Returns the rows, in order.
 */
export async function liveSessions(aws: Clients, targets: readonly TargetReport[], opts: { places?: RecordPlaces } = {}): Promise<TargetReport[]> {
  const ssm = aws.get(SSMClient);
  const out: TargetReport[] = [];
  const opened = new Map<number, string>();
  for (const t of targets) {
    if (!t.ready) {
      out.push(t);
      continue;
    }
    let finding: Finding;
    try {
      const { SessionId } = await ssm.send(new StartSessionCommand({ Target: t.instanceId, Reason: 'ssm-setup check --live' }));
      if (SessionId) await ssm.send(new TerminateSessionCommand({ SessionId }));
      if (SessionId) opened.set(out.length, SessionId);
      finding = ok('live-session', `StartSession accepted (${SessionId}), terminated`);
    } catch (err) {
      finding = error('live-session', `StartSession refused: ${(err as Error).name}: ${(err as Error).message}`, 'see the operator findings');
    }
    out.push({ ...t, ready: finding.status === 'ok', findings: [...t.findings, finding] });
  }
  if (!opened.size) return out;
  const targetOf = new Map([...opened].map(([i, id]) => [id, out[i]!.instanceId]));
  const found = await recordFindings(aws, opts.places, targetOf);
  return out.map((t, i) => (opened.has(i) ? { ...t, findings: [...t.findings, ...found.get(opened.get(i)!)!] } : t));
}

/**
 * The records of the live sessions, polled together until every destination has each one or
 * the wait is over; a finding per destination and session. Missing is a warning: a session
 * opened and ended with no client on its data channel may leave no record even where the
 * logging works, so `audit` over real sessions is the proof.
 */
async function recordFindings(aws: Clients, given: RecordPlaces | undefined, targetOf: ReadonlyMap<string, string>): Promise<Map<string, Finding[]>> {
  const ids = [...targetOf.keys()];
  const out = new Map<string, Finding[]>();
  let places: RecordPlaces | undefined;
  try {
    places = given ?? (await readPlaces(aws));
  } catch (err) {
    for (const id of ids) out.set(id, [warn('live-records', `the preferences could not be read (${errorName(err)}): the records were not looked for`)]);
    return out;
  }
  if (!places?.s3 && !places?.cloudwatch) {
    for (const id of ids) out.set(id, [warn('live-records', 'the preferences send session logs nowhere: no record to look for', 'ssm-setup run preferences')]);
    return out;
  }
  const started = Date.now();
  let records = new Map<string, SessionRecords>();
  try {
    for (;;) {
      records = await findRecords(aws, places, ids);
      const complete = ids.every((id) => !recordGaps(places, records.get(id)).length);
      if (complete || Date.now() - started + liveRecordWait.delayMs > liveRecordWait.timeoutMs) break;
      await new Promise((r) => setTimeout(r, liveRecordWait.delayMs));
    }
  } catch (err) {
    for (const id of ids)
      out.set(id, [warn('live-records', `the records could not be read (${errorName(err)})`, 'grant the read permissions listed in the README')]);
    return out;
  }
  const waited = Math.round((Date.now() - started) / 1000);
  for (const id of ids) {
    const r = records.get(id);
    const fix = `ssm-setup audit --instance-ids ${targetOf.get(id)} --since 1h`;
    const gaps = recordGaps(places, r);
    const findings: Finding[] = [];
    if (places.s3) {
      const gap = gaps.find((g) => g.destination === 's3');
      const where = `s3://${places.s3.bucket}/${r?.s3?.key ?? ''}`;
      findings.push(
        gap
          ? warn('live-s3-record', `${gap.problem} after ${waited}s`, fix)
          : ok('live-s3-record', `${where}${r?.s3?.encryption ? ` (${r.s3.encryption})` : ''}`),
      );
    }
    if (places.cloudwatch) {
      const gap = gaps.find((g) => g.destination === 'cloudwatch');
      findings.push(
        gap
          ? warn('live-cloudwatch-record', `${gap.problem} after ${waited}s`, fix)
          : ok('live-cloudwatch-record', `log stream ${id} in ${places.cloudwatch.logGroup}`),
      );
    }
    out.set(id, findings);
  }
  return out;
}
