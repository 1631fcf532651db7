import { describe, expect, it } from 'vitest';
import { preferencesDocument } from '../../../src/policies/preferences-document.js';
import { preferencesTable } from '../../../src/steps/preferences/table.js';

// Issue 14.11: the wizard shows the current preferences as a table, not as raw JSON.
describe('preferencesTable', () => {
  it('one setting a line, aligned, in words', () => {
    const { inputs } = preferencesDocument({
      bucketName: 'logs',
      s3Prefix: 'session-logs/',
      keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      logGroupName: '/aws/ssm/session-logs',
      idleTimeout: 45,
      runAs: 'ops',
      shellProfileLinux: 'exec bash -l',
      shellProfileWindows: '',
    });
    expect(preferencesTable(inputs as unknown as Record<string, unknown>)).toEqual([
      '  S3 logging             s3://logs/session-logs/ (encrypted)',
      '  CloudWatch Logs        /aws/ssm/session-logs (streamed, encrypted)',
      '  KMS key                arn:aws:kms:eu-west-1:123456789012:key/k',
      '  Run As                 ops',
      '  Idle timeout           45 minutes',
      '  Max session            none',
      '  Linux shell profile    "exec bash -l"',
      '  Windows shell profile  none',
    ]);
  });

  it('reads string booleans and unset fields like the agent does, and lists fields it does not know', () => {
    const lines = preferencesTable({ s3BucketName: '', cloudWatchLogGroupName: '', runAsEnabled: 'false', maxSessionDuration: '60', customSetting: 'x' });
    expect(lines).toContainEqual(expect.stringMatching(/S3 logging +off$/));
    expect(lines).toContainEqual(expect.stringMatching(/CloudWatch Logs +off$/));
    expect(lines).toContainEqual(expect.stringMatching(/Run As +off \(sessions run as ssm-user\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/Max session +60 minutes$/));
    expect(lines).toContainEqual(expect.stringMatching(/Idle timeout +20 minutes \(the default\)$/));
    expect(lines.at(-1)).toMatch(/^ {2}customSetting +"x"$/);
  });
});
