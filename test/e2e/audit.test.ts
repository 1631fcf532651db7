import { CloudWatchLogsClient, CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report.js';
import type { FakeSession } from '../helpers/fake-sessions.js';
import { type CliRun, endpoint, kms, reset, runCli, sdk } from './harness.js';
import { type SsmStubProxy, startSsmStubProxy } from './ssm-stub-proxy.js';

/**
 * `audit --json` end to end: the built CLI as a child process against moto_server, after a real
 * `init --yes --cloudwatch-logs` there. moto has no Session Manager sessions (no
 * DescribeSessions): the loopback proxy of ssm-stub-proxy.ts answers it from the sessions seeded
 * here, as strictly as the API (test/helpers/fake-sessions.ts). The records are real: S3 objects
 * (put with SSE-KMS) and CloudWatch Logs streams made in moto with the SDK.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
const PREFIX = 'session-logs/';
const GROUP = '/aws/ssm/session-logs';
const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';
const HOUR = 3_600_000;
const BULK = 210;

let proxy: SsmStubProxy;
const viaProxy = (args: string[]) => runCli(args, { env: { AWS_ENDPOINT_URL: proxy.url } });
const parse = (run: CliRun) => {
  try {
    return JSON.parse(run.stdout) as RunReport;
  } catch {
    throw new Error(`not one JSON object on stdout (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
};

const session = (id: string, hoursAgo: number, over: Partial<FakeSession> = {}): FakeSession => ({
  SessionId: id,
  Target: A,
  Status: 'Terminated',
  StartDate: new Date(Date.now() - hoursAgo * HOUR),
  EndDate: new Date(Date.now() - hoursAgo * HOUR + 300_000),
  DocumentName: 'SSM-SessionManagerRunShell',
  Owner: `arn:aws:iam::${ACCOUNT}:user/alice`,
  ...over,
});

async function putRecords(id: string, keyId: string, opts: { object?: boolean; stream?: boolean } = {}) {
  if (opts.object !== false) {
    await sdk(S3Client).send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${PREFIX}${id}.log`,
        Body: 'Script started\n$ exit\n',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyId,
      }),
    );
  }
  if (opts.stream !== false) await sdk(CloudWatchLogsClient).send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: id }));
}

let sessionKey: string;
let otherKey: string;

beforeAll(async () => {
  await reset();
  proxy = await startSsmStubProxy(endpoint());
  const init = await viaProxy(['init', '--yes', '--cloudwatch-logs']);

  expect(init.code, init.stdout + init.stderr).toBe(0);
  sessionKey = (await kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata!.Arn!;
  otherKey = (await kms().send(new CreateKeyCommand({ Description: 'not the session key' }))).KeyMetadata!.Arn!;
  // The bucket's TLS-only policy denies plain HTTP, the only thing the loopback emulator speaks,
  // and moto enforces it on object calls (PutObject, HeadObject: 403): it is taken off for this
  // file, the agent and ssm-setup go over TLS against AWS.
  const s3 = sdk(S3Client);
  expect((await s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))).Policy).toContain('aws:SecureTransport');
  await s3.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));

  proxy.sessions.push(
    session('alice-0000000000000000a', 1),
    session('alice-0000000000000000b', 2),
    session('bob-0000000000000000c', 3, { DocumentName: 'AWS-StartSSHSession', Owner: `arn:aws:iam::${ACCOUNT}:user/bob`, Target: B }),
    { ...session('carol-0000000000000000d', 0.1), Status: 'Connected', EndDate: undefined },
    session('alice-0000000000000000e', 24 * 10),
    session('dave-0000000000000000f', 4, { Owner: `arn:aws:iam::${ACCOUNT}:user/dave`, Target: B }),
  );
  await putRecords('alice-0000000000000000a', sessionKey);
  await putRecords('alice-0000000000000000b', sessionKey, { object: false });
  await putRecords('alice-0000000000000000e', sessionKey);
  await putRecords('dave-0000000000000000f', otherKey);
  // More than one DescribeSessions page (200): the bulk, every one logged.
  for (let n = 0; n < BULK; n++) {
    const id = `bulk-${n.toString(16).padStart(17, '0')}`;
    proxy.sessions.push(session(id, 5 + n / 100, { Target: B, Owner: `arn:aws:iam::${ACCOUNT}:user/bulk` }));
    await putRecords(id, sessionKey);
  }
}, 180_000);

afterAll(async () => {
  await proxy?.close();
});

describe('ssm-setup audit against moto_server, with DescribeSessions stubbed (moto lacks it)', () => {
  it('each status, the pages, the reasons; exit 3 with a missing record; no write', async () => {
    const answered = proxy.answered.length;
    const run = await viaProxy(['audit', '--json']);
    expect(run.code, run.stderr).toBe(3);
    const report = parse(run);
    expect(report).toMatchObject({ command: 'audit', account: ACCOUNT, region: REGION, ok: false });
    const status = new Map(report.sessions!.map((s) => [s.sessionId, s]));
    expect(status.get('alice-0000000000000000a')).toMatchObject({
      status: 'logged',
      s3: { bucket: BUCKET, key: `${PREFIX}alice-0000000000000000a.log`, exists: true, encryption: 'aws:kms' },
      cloudwatch: { logGroup: GROUP, stream: 'alice-0000000000000000a', exists: true },
    });
    expect(status.get('alice-0000000000000000b')).toMatchObject({ status: 'missing', s3: { exists: false }, cloudwatch: { exists: true } });
    expect(status.get('alice-0000000000000000b')!.reason).toContain(`s3://${BUCKET}/${PREFIX}alice-0000000000000000b.log`);
    expect(status.get('bob-0000000000000000c')).toMatchObject({ status: 'not-logged', document: 'AWS-StartSSHSession' });
    expect(status.get('carol-0000000000000000d')).toMatchObject({ status: 'active', end: null });
    // Encrypted with another key than the session key: missing, the reason naming that key.
    expect(status.get('dave-0000000000000000f')!.status).toBe('missing');
    expect(status.get('dave-0000000000000000f')!.reason).toContain(otherKey.split('/').pop());
    // Older than the window: not listed.
    expect(status.has('alice-0000000000000000e')).toBe(false);
    // Every page: more than 200 sessions, all of them.
    const bulk = report.sessions!.filter((s) => s.sessionId.startsWith('bulk-'));
    expect(bulk).toHaveLength(BULK);
    expect(bulk.every((s) => s.status === 'logged')).toBe(true);
    expect(report.summary).toEqual({ total: BULK + 5, logged: BULK + 1, missing: 2, notLogged: 1, active: 1 });
    expect(proxy.answered.slice(answered).filter((op) => op === 'AmazonSSM.DescribeSessions').length).toBeGreaterThanOrEqual(3);
    // Batched: the bulk's objects and streams are listed by owner prefix, not read one call each.
    const ops = run.calls.map((c) => `${c.service}.${c.operation}`);
    expect(ops.filter((o) => o === 'S3.ListObjectsV2').length).toBeLessThan(10);
    expect(ops.filter((o) => o === 'CloudWatchLogs.DescribeLogStreams').length).toBeLessThan(20);
    expect(run.stderr.match(/not content-logged/g)).toHaveLength(1);
    expect(run.writes).toEqual([]);
  }, 120_000);

  it('a wider --since lists the older session, logged', async () => {
    const run = await viaProxy(['audit', '--json', '--since', '12d']);
    expect(run.code, run.stderr).toBe(3);
    expect(parse(run).sessions!.find((s) => s.sessionId === 'alice-0000000000000000e')).toMatchObject({ status: 'logged' });
    expect(run.writes).toEqual([]);
  }, 120_000);

  it('--instance-ids of a target whose sessions are all logged or not-logged: exit 0, ok true; the table in plain output', async () => {
    const json = await viaProxy(['audit', '--json', '--instance-ids', A]);
    expect(json.code, json.stderr).toBe(3);
    const plain = await viaProxy(['audit', '--since', '2h', '--instance-ids', A]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/SESSION +TARGET +OWNER +DOCUMENT +START \(UTC\) +DURATION +STATUS/);
    expect(plain.stdout).toMatch(/alice-0000000000000000a +i-0aaaaaaaaaaaaaaa1 +user\/alice +SSM-SessionManagerRunShell .* ✔ logged/);
    expect(plain.stdout).toContain('2 sessions: 1 logged, 0 missing, 0 not logged, 1 active.');
  }, 120_000);
});
