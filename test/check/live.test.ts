import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { liveRecordWait, liveSessions } from '../../src/check/live.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { sessionRecords } from '../audit/records-fakes.js';
import { captureOutput } from '../helpers/capture.js';
import { REGION, testClients } from '../helpers/fixtures.js';
import { A, B, BUCKET, checks, errors, GROUP, KEY_ARN, logs, PREFIX, s3, sdkError, ssm, useWorld, world } from './harness.js';

// `check --live`: a real StartSession and TerminateSession on each ready target.

// The operator's local tools are detected by running `aws --version` and
// `session-manager-plugin --version`: mocked, so the tests do not depend on what is installed.
const tools = vi.hoisted(() => ({ current: { aws: '2.15.30', plugin: '1.2.650.0' } as { aws?: string; plugin?: string } }));
vi.mock('../../src/aws/local-tools.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/aws/local-tools.js')>()),
  detectLocalTools: vi.fn(async () => tools.current),
}));
beforeEach(() => {
  tools.current = { aws: '2.15.30', plugin: '1.2.650.0' };
});
useWorld();

// The records of the live sessions (test/audit/records-fakes.ts); the wait for them is shortened.
let records: ReturnType<typeof sessionRecords>;
const wait = { ...liveRecordWait };
const idOf = (target: string) => `alice-${target.slice(2)}`;
const logged = (target: string, kmsKeyId = KEY_ARN) => {
  records.putObject(BUCKET, `${PREFIX}${idOf(target)}.log`, { encryption: 'aws:kms', kmsKeyId });
  records.putStream(GROUP, idOf(target));
};
beforeEach(() => {
  records = sessionRecords(s3, logs);
  records.addBucket(BUCKET);
  records.addGroup(GROUP);
  Object.assign(liveRecordWait, { timeoutMs: 300, delayMs: 20 });
});
afterEach(() => {
  Object.assign(liveRecordWait, wait);
});

describe('ssm-setup check --live', () => {
  const { out } = captureOutput();

  const run = (...args: string[]) => main(['node', 'ssm-setup', 'check', '--region', REGION, ...args]);
  const json = () => JSON.parse(out()) as RunReport;

  it('starts and at once terminates a session on each ready target', async () => {
    logged(A);
    logged(B);
    const code = await run('--instance-ids', `${A},${B}`, '--live', '--json');
    expect(code).toBe(0);
    expect(ssm.commandCalls(StartSessionCommand).map((c) => c.args[0].input.Target)).toEqual([A, B]);
    expect(ssm.commandCalls(TerminateSessionCommand).map((c) => c.args[0].input.SessionId)).toEqual([`alice-${A.slice(2)}`, `alice-${B.slice(2)}`]);
    for (const t of json().targets!) {
      expect(t.findings.find((f) => f.check === 'live-session')).toEqual({
        check: 'live-session',
        status: 'ok',
        detail: `StartSession accepted (alice-${t.instanceId.slice(2)}), terminated`,
      });
      expect(t.ready).toBe(true);
    }
    // Each session is terminated before the next one starts.
    const order = ssm
      .calls()
      .map((c) => (c.args[0] as object).constructor.name)
      .filter((n) => /Session/.test(n));
    expect(order).toEqual(['StartSessionCommand', 'TerminateSessionCommand', 'StartSessionCommand', 'TerminateSessionCommand']);
  });

  it('a refused StartSession turns that row to error: exit 3', async () => {
    logged(A);
    world.refuse[B] = sdkError('TargetNotConnected', `${B} is not connected.`, 400);
    const code = await run('--instance-ids', `${A},${B}`, '--live', '--json');
    expect(code).toBe(3);
    const report = json();
    const b = report.targets!.find((t) => t.instanceId === B)!;
    expect(b.ready).toBe(false);
    expect(errors(b.findings)).toEqual([
      { check: 'live-session', status: 'error', detail: `StartSession refused: TargetNotConnected: ${B} is not connected.`, fix: 'see the operator findings' },
    ]);
    expect(report.targets!.find((t) => t.instanceId === A)!.ready).toBe(true);
    expect(ssm.commandCalls(TerminateSessionCommand).map((c) => c.args[0].input.SessionId)).toEqual([`alice-${A.slice(2)}`]);
  });

  it('a target that is not ready is not tried', async () => {
    logged(A);
    world.connection[B] = 'notconnected';
    const code = await run('--instance-ids', `${A},${B}`, '--live', '--json');
    expect(code).toBe(3);
    expect(ssm.commandCalls(StartSessionCommand).map((c) => c.args[0].input.Target)).toEqual([A]);
    expect(checks(json().targets!.find((t) => t.instanceId === B)!.findings)).not.toContain('live-session');
  });
});

describe('check --live looks for the records of its sessions, as audit matches them', () => {
  const { out } = captureOutput();
  const run = (...args: string[]) => main(['node', 'ssm-setup', 'check', '--region', REGION, '--instance-ids', `${A},${B}`, '--live', '--json', ...args]);
  const findingsOf = (target: string) => (JSON.parse(out()) as RunReport).targets!.find((t) => t.instanceId === target)!.findings;
  const recordChecks = (target: string) => findingsOf(target).filter((f) => f.check.startsWith('live-') && f.check !== 'live-session');

  it('each destination found: an ok finding per destination and session, looked for once both sessions ended', async () => {
    logged(A);
    logged(B);
    expect(await run()).toBe(0);
    for (const t of [A, B]) {
      expect(recordChecks(t)).toEqual([
        { check: 'live-s3-record', status: 'ok', detail: `s3://${BUCKET}/${PREFIX}${idOf(t)}.log (aws:kms)` },
        { check: 'live-cloudwatch-record', status: 'ok', detail: `log stream ${idOf(t)} in ${GROUP}` },
      ]);
    }
    // One lookup for both sessions, after the second one ended.
    const last = ssm.commandCalls(TerminateSessionCommand).at(-1)!;
    expect(s3.commandCalls(ListObjectsV2Command).every((c) => last.calledBefore(c))).toBe(true);
  });

  it('records that appear a moment after the end: polled until they are there', async () => {
    let lists = 0;
    s3.on(ListObjectsV2Command).callsFake(async (input) => {
      // The agent uploads at the end of the session: the objects appear by the second look.
      if (++lists === 3) {
        logged(A);
        logged(B);
      }
      return { Contents: [...records.buckets.get(BUCKET)!.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).map((Key) => ({ Key })) };
    });
    expect(await run()).toBe(0);
    expect(lists).toBeGreaterThan(2);
    expect(recordChecks(A).map((f) => f.status)).toEqual(['ok', 'ok']);
  });

  it('missing after the bounded wait: a warning per destination naming the record, with the audit to run; the row stays ready', async () => {
    records.putStream(GROUP, idOf(A));
    logged(B, `arn:aws:kms:${REGION}:123456789012:key/ffffffff-12ab-34cd-56ef-1234567890ab`);
    const started = Date.now();
    expect(await run()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    const a = recordChecks(A);
    expect(a.map((f) => [f.check, f.status])).toEqual([
      ['live-s3-record', 'warning'],
      ['live-cloudwatch-record', 'ok'],
    ]);
    expect(a[0]!.detail).toContain(`s3://${BUCKET}/${PREFIX}${idOf(A)}.log`);
    expect(a[0]!.fix).toBe(`ssm-setup audit --instance-ids ${A} --since 1h`);
    // B's object is there, encrypted with another key than the session key.
    expect(recordChecks(B)[0]).toMatchObject({ check: 'live-s3-record', status: 'warning' });
    expect((JSON.parse(out()) as RunReport).targets!.every((t) => t.ready)).toBe(true);
  });
});

describe('liveSessions', () => {
  const report = (instanceId: string, ready: boolean) => ({ instanceId, ready, findings: [{ check: 'state', status: 'ok' as const, detail: 'running' }] });

  it('leaves a target that is not ready as it is, and terminates only a session that was opened', async () => {
    ssm.on(StartSessionCommand).resolves({});
    const out = await liveSessions(testClients(), [report(A, true), report(B, false)]);
    expect(out[1]).toEqual(report(B, false));
    expect(out[0]!.findings.at(-1)).toEqual({ check: 'live-session', status: 'ok', detail: 'StartSession accepted (undefined), terminated' });
    expect(ssm).not.toHaveReceivedCommand(TerminateSessionCommand);
    expect(ssm).toHaveReceivedCommandWith(StartSessionCommand, { Target: A, Reason: 'ssm-setup check --live' });
  });
});
