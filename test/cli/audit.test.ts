import { GetDocumentCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { isWriteCall } from '../../src/aws/calls.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { sessionRecords } from '../audit/records-fakes.js';
import { A, B, BUCKET, GROUP, iam, KEY_ARN, kms, logs, PREFIX, s3, ssm, useWorld, world } from '../check/harness.js';
import { captureOutput } from '../helpers/capture.js';
import { type FakeSession, fakeSessions } from '../helpers/fake-sessions.js';
import { ACCOUNT, REGION } from '../helpers/fixtures.js';

// `ssm-setup audit`, in-process, on the fully set-up account of the check tests (S3 logging to
// an SSE-KMS bucket, CloudWatch streaming): DescribeSessions from the strict fake
// (test/helpers/fake-sessions.ts), the objects and streams from test/audit/records-fakes.ts.

const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;
const HOUR = 3_600_000;
const OWNER = `arn:aws:iam::${ACCOUNT}:user/alice`;
const session = (id: string, hoursAgo: number, over: Partial<FakeSession> = {}): FakeSession => ({
  SessionId: id,
  Target: A,
  Status: 'Terminated',
  StartDate: new Date(Date.now() - hoursAgo * HOUR),
  EndDate: new Date(Date.now() - hoursAgo * HOUR + 600_000),
  DocumentName: 'SSM-SessionManagerRunShell',
  Owner: OWNER,
  ...over,
});

useWorld();

describe('ssm-setup audit (the command, in-process)', () => {
  const { out, err } = captureOutput();
  const run = (...args: string[]) => main(['node', 'ssm-setup', 'audit', '--region', REGION, ...args]);
  const json = () => JSON.parse(out()) as RunReport;

  /** The world's sessions and their records: logged, without its object, SSH, running, older than the window. */
  function seed() {
    const sessions = fakeSessions({ mock: ssm });
    const records = sessionRecords(s3, logs);
    records.addBucket(BUCKET);
    records.addGroup(GROUP);
    const logged = (id: string, key = KEY_ARN) => {
      records.putObject(BUCKET, `${PREFIX}${id}.log`, { encryption: 'aws:kms', kmsKeyId: key });
      records.putStream(GROUP, id);
    };
    sessions.add(
      session('alice-0000000000000000a', 1),
      session('alice-0000000000000000b', 2),
      session('bob-0000000000000000c', 3, { DocumentName: 'AWS-StartSSHSession', Owner: `arn:aws:iam::${ACCOUNT}:user/bob`, Target: B }),
      { ...session('carol-0000000000000000d', 0.1), Status: 'Connected', EndDate: undefined },
      session('alice-0000000000000000e', 24 * 9),
    );
    logged('alice-0000000000000000a');
    records.putStream(GROUP, 'alice-0000000000000000b');
    logged('alice-0000000000000000e');
    return { sessions, records, logged };
  }
  const writes = () =>
    [ssm, s3, logs, kms, iam].flatMap((m) => m.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''))).filter(isWriteCall);

  it('logged, missing (exit 3, ok false), not-logged and active, with the contract shape; the old one left out; no write', async () => {
    seed();
    const code = await run('--json');
    expect(code, err()).toBe(3);
    const report = json();
    expect(report).toMatchObject({ command: 'audit', account: ACCOUNT, region: REGION, ok: false, since: expect.any(String) });
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['command', 'account', 'region', 'ok', 'since', 'sessions', 'summary']));
    const status = Object.fromEntries(report.sessions!.map((s) => [s.sessionId, s.status]));
    expect(status).toEqual({
      'carol-0000000000000000d': 'active',
      'alice-0000000000000000a': 'logged',
      'alice-0000000000000000b': 'missing',
      'bob-0000000000000000c': 'not-logged',
    });
    expect(report.summary).toEqual({ total: 4, logged: 1, missing: 1, notLogged: 1, active: 1 });
    const missing = report.sessions!.find((s) => s.status === 'missing')!;
    expect(missing).toMatchObject({
      target: A,
      owner: OWNER,
      document: 'SSM-SessionManagerRunShell',
      s3: { bucket: BUCKET, key: `${PREFIX}alice-0000000000000000b.log`, exists: false, encryption: null },
      cloudwatch: { logGroup: GROUP, stream: 'alice-0000000000000000b', exists: true },
      fix: `ssm-setup check --instance-ids ${A}`,
    });
    expect(missing.reason).toContain(`s3://${BUCKET}/${PREFIX}alice-0000000000000000b.log`);
    expect(report.sessions!.find((s) => s.status === 'logged')!.s3).toMatchObject({ exists: true, encryption: 'aws:kms', kmsKeyId: KEY_ARN });
    expect(report.sessions!.find((s) => s.status === 'not-logged')).toMatchObject({
      s3: null,
      cloudwatch: null,
      fix: expect.stringContaining('--deny-unlogged-sessions'),
    });
    // The not-logged warning, once.
    expect(err().match(/not content-logged/g)).toHaveLength(1);
    expect(writes()).toEqual([]);
  });

  it('a wider --since lists the older session too', async () => {
    seed();
    expect(await run('--json', '--since', '10d')).toBe(3);
    expect(json().sessions!.map((s) => s.sessionId)).toContain('alice-0000000000000000e');
  });

  it('every record there: exit 0, ok true', async () => {
    const { logged } = seed();
    logged('alice-0000000000000000b');
    expect(await run('--json')).toBe(0);
    expect(json().ok).toBe(true);
    expect(json().summary).toEqual({ total: 4, logged: 2, missing: 0, notLogged: 1, active: 1 });
  });

  it('the table: session, target, owner, document, start, duration, status; then the counts', async () => {
    const { logged } = seed();
    logged('alice-0000000000000000b');
    expect(await run()).toBe(0);
    const text = out();
    expect(text).toMatch(/SESSION +TARGET +OWNER +DOCUMENT +START \(UTC\) +DURATION +STATUS/);
    expect(text).toMatch(new RegExp(`alice-0000000000000000a +${A} +user/alice +SSM-SessionManagerRunShell +\\S+ \\S+ +10m00s +✔ logged`));
    expect(text).toContain('4 sessions: 2 logged, 0 missing, 1 not logged, 1 active.');
  });

  it('an object encrypted with another key: missing, with the reason naming the key', async () => {
    const { logged } = seed();
    logged('alice-0000000000000000b', OTHER_KEY);
    world.bucket.sse = { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: OTHER_KEY };
    expect(await run('--json')).toBe(3);
    const s = json().sessions!.find((x) => x.sessionId === 'alice-0000000000000000b')!;
    expect(s.status).toBe('missing');
    expect(s.reason).toContain(OTHER_KEY);
    expect(s.fix).toBe('ssm-setup run log-bucket');
  });

  it('a Standard_Stream document of its own logs where its inputs say; one without logging is missing; a Port one not logged', async () => {
    const { sessions, records } = seed();
    const doc = (sessionType: string, inputs: Record<string, unknown>) => ({ Content: JSON.stringify({ schemaVersion: '1.0', sessionType, inputs }) });
    ssm
      .on(GetDocumentCommand, { Name: 'Team-Shell' })
      .resolves(doc('Standard_Stream', { s3BucketName: 'team-logs', s3KeyPrefix: '', s3EncryptionEnabled: false }));
    ssm.on(GetDocumentCommand, { Name: 'Team-Quiet' }).resolves(doc('Standard_Stream', {}));
    ssm.on(GetDocumentCommand, { Name: 'Team-Tunnel' }).resolves(doc('Port', {}));
    sessions.add(
      session('erin-0000000000000000a', 1, { DocumentName: 'Team-Shell' }),
      session('erin-0000000000000000b', 1, { DocumentName: 'Team-Quiet' }),
      session('erin-0000000000000000c', 1, { DocumentName: 'Team-Tunnel' }),
    );
    records.putObject('team-logs', 'erin-0000000000000000a.log');
    await run('--json');
    const status = Object.fromEntries(json().sessions!.map((s) => [s.sessionId, s]));
    expect(status['erin-0000000000000000a']).toMatchObject({ status: 'logged', s3: { bucket: 'team-logs', key: 'erin-0000000000000000a.log', exists: true } });
    expect(status['erin-0000000000000000a']!.cloudwatch).toBeNull();
    expect(status['erin-0000000000000000b']).toMatchObject({ status: 'missing', fix: expect.stringContaining('Team-Quiet') });
    expect(status['erin-0000000000000000c']!.status).toBe('not-logged');
    expect(ssm.commandCalls(GetDocumentCommand).filter((c) => c.args[0].input.Name?.startsWith('Team-'))).toHaveLength(3);
  });

  it('--instance-ids narrows to the sessions of those targets', async () => {
    seed();
    await run('--json', '--instance-ids', B);
    expect(json().sessions!.map((s) => s.sessionId)).toEqual(['bob-0000000000000000c']);
    expect(json().ok).toBe(true);
  });

  it('a bad --since: exit 2 naming the flag, before any AWS call', async () => {
    seed();
    expect(await run('--since', 'a week', '--json')).toBe(2);
    expect(json().error).toMatchObject({ code: 'INVALID_SETTINGS' });
    expect(ssm.calls()).toHaveLength(0);
  });
});

describe('ssm-setup audit --help', () => {
  const { out } = captureOutput();
  it('lists --since and the target settings, none of the settings it ignores', async () => {
    expect(await main(['node', 'ssm-setup', 'audit', '--help'])).toBe(0);
    const text = out();
    for (const flag of ['--since', '--instance-ids', '--tag', '--json']) expect(text).toMatch(new RegExp(`^ +${flag}`, 'm'));
    for (const flag of ['--bucket', '--idle-timeout', '--operator-access', '--dhmc']) expect(text).not.toMatch(new RegExp(`^ +${flag}`, 'm'));
    expect(text).toContain('Examples:');
  });
});
