import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateDocumentCommand,
  DescribeDocumentCommand,
  GetDocumentCommand,
  SSMClient,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { kms, reset, runCli, sdk, setupWrites } from './harness.js';

const Name = 'SSM-SessionManagerRunShell';
const ssm = () => sdk(SSMClient);
const describeDoc = async () => (await ssm().send(new DescribeDocumentCommand({ Name }))).Document!;
const contentOf = async (DocumentVersion?: string) => JSON.parse((await ssm().send(new GetDocumentCommand({ Name, DocumentVersion }))).Content!);
const ARGS = ['--idle-timeout', '30', '--run-as', 'ec2-user', '--max-session-duration', '120'];

beforeEach(reset);

describe('Session Manager preferences against moto_server', () => {
  it('init creates the document with every value in its JSON type, default = latest; the rerun writes nothing', async () => {
    const run = await runCli(['init', '--yes', '--cloudwatch-logs', ...ARGS]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const keyArn = (await kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata!.Arn;
    const doc = await contentOf();
    expect(doc).toMatchObject({ schemaVersion: '1.0', sessionType: 'Standard_Stream' });
    expect(doc.inputs).toEqual({
      s3BucketName: 'ssm-session-logs-123456789012-us-east-1',
      s3KeyPrefix: 'session-logs/',
      s3EncryptionEnabled: true,
      cloudWatchLogGroupName: '/aws/ssm/session-logs',
      cloudWatchEncryptionEnabled: true,
      cloudWatchStreamingEnabled: true,
      kmsKeyId: keyArn,
      runAsEnabled: true,
      runAsDefaultUser: 'ec2-user',
      idleSessionTimeout: '30',
      maxSessionDuration: '120',
      shellProfile: { windows: '', linux: '' },
    });
    const d = await describeDoc();
    expect(d).toMatchObject({ DocumentType: 'Session', DefaultVersion: d.LatestVersion });
    expect(d.Tags).toContainEqual({ Key: 'ManagedBy', Value: 'ssm-setup' });

    const rerun = await runCli(['init', '--yes', '--cloudwatch-logs', ...ARGS]);
    expect(rerun.writes).toEqual([]);
    expect((await runCli(['plan', '--detailed-exitcode', '--cloudwatch-logs', ...ARGS])).code).toBe(0);
  });

  it('adopts a document made by hand: updates it in place, records its default version, default = the new version', async () => {
    const byHand = {
      schemaVersion: '1.0',
      description: 'by hand',
      sessionType: 'Standard_Stream',
      inputs: { idleSessionTimeout: '15', s3EncryptionEnabled: 'false', shellProfile: { linux: 'exec bash', windows: '' } },
    };
    await ssm().send(new CreateDocumentCommand({ Name, Content: JSON.stringify(byHand), DocumentType: 'Session', DocumentFormat: 'JSON' }));

    const plan = await runCli(['plan', ...ARGS]);
    expect(plan.stdout).toContain(`~ update preferences ${Name} idleSessionTimeout: "15" → "30"`);
    // A setting nobody gave keeps what the account has (issue 14.1): the hand-written shell profile stays.
    expect(plan.stdout).not.toContain('shellProfile.linux');

    const run = await runCli(['init', '--yes', ...ARGS]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(
      setupWrites(run)
        .filter((c) => c.service === 'SSM')
        .map((c) => c.operation),
    ).toEqual(['AddTagsToResource', 'UpdateDocument', 'UpdateDocumentDefaultVersion']);
    const d = await describeDoc();
    expect(d).toMatchObject({ DefaultVersion: '2', LatestVersion: '2' });
    expect(d.Tags).toContainEqual({ Key: 'ssm-setup:original-default-version', Value: '1' });
    expect(d.Tags).not.toContainEqual({ Key: 'ManagedBy', Value: 'ssm-setup' });
    expect((await contentOf('2')).inputs).toMatchObject({ idleSessionTimeout: '30', shellProfile: { linux: 'exec bash' } });
    expect((await runCli(['init', '--yes', ...ARGS])).writes).toEqual([]);
  });

  it('heals a default version left behind an already correct latest version', async () => {
    expect((await runCli(['init', '--yes', '--idle-timeout', '25'])).code).toBe(0);
    const v1 = await contentOf('1');
    await ssm().send(
      new UpdateDocumentCommand({
        Name,
        DocumentVersion: '1',
        DocumentFormat: 'JSON',
        Content: JSON.stringify({ ...v1, inputs: { ...v1.inputs, idleSessionTimeout: '30' } }),
      }),
    );
    const run = await runCli(['init', '--yes', '--idle-timeout', '30']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('default version 1 → 2 (the latest, left behind by an interrupted update)');
    expect(setupWrites(run).map((c) => c.operation)).toEqual(['UpdateDocumentDefaultVersion']);
    expect((await describeDoc()).DefaultVersion).toBe('2');
  });

  it('string booleans of the same meaning are left alone, unless --normalize', async () => {
    expect((await runCli(['init', '--yes'])).code).toBe(0);
    const text = (await ssm().send(new GetDocumentCommand({ Name, DocumentVersion: '1' })))
      .Content!.replace(/: true/g, ': "true"')
      .replace(/: false/g, ': "false"');
    await ssm().send(new UpdateDocumentCommand({ Name, DocumentVersion: '1', DocumentFormat: 'JSON', Content: text }));
    await ssm().send(new UpdateDocumentDefaultVersionCommand({ Name, DocumentVersion: '2' }));

    const plain = await runCli(['init', '--yes']);
    expect(plain.writes).toEqual([]);
    expect(plain.stdout).toContain('--normalize rewrites them');
    const normalized = await runCli(['init', '--yes', '--normalize']);
    expect(normalized.code, normalized.stdout + normalized.stderr).toBe(0);
    // The normalized content is version 1's again: SSM refuses it as a duplicate, so version 1
    // becomes the default instead of a third copy.
    expect(setupWrites(normalized).map((c) => c.operation)).toEqual(['UpdateDocument', 'UpdateDocumentDefaultVersion']);
    const d = await describeDoc();
    expect(d).toMatchObject({ DefaultVersion: '1', LatestVersion: '2' });
    expect((await contentOf('1')).inputs.s3EncryptionEnabled).toBe(true);
    expect((await runCli(['init', '--yes', '--normalize'])).writes).toEqual([]);
  });

  it('run preferences alone needs the key, bucket and group: exit 1 naming the step to run first', async () => {
    const run = await runCli(['run', 'preferences', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('run `ssm-setup run kms-key`');
    expect(run.writes).toEqual([]);
  });

  it.each([
    [['--run-as', 'root'], '--run-as: root is refused'],
    [['--idle-timeout', '61'], '--idle-timeout: must be from 1 to 60'],
    [['--max-session-duration', '1441'], '--max-session-duration: must be from 1 to 1440'],
  ])('%j exits 2 before any AWS call', async (args, message) => {
    const run = await runCli(['init', '--yes', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.calls).toEqual([]);
  });
});
