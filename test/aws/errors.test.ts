import { describe, expect, it } from 'vitest';
import { isAmbiguous, toStepError } from '../../src/aws/errors.js';
import type { StepError } from '../../src/base/errors.js';
import { LOGS_STATEMENT_SID } from '../../src/policies/kms-key-policy.js';

const GROUP_ARN = 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/ssm/session-logs';
const refused = (call: string) =>
  Object.assign(new Error(`The specified KMS key does not exist or is not allowed to be used with Arn '${GROUP_ARN}'`), {
    name: 'AccessDeniedException',
    $metadata: { httpStatusCode: 400 },
    $ssmSetupCall: call,
  });

describe('toStepError: CloudWatch Logs refuses the key', () => {
  it.each(['CloudWatchLogs.CreateLogGroup', 'CloudWatchLogs.AssociateKmsKey'])(
    '%s: KEY_POLICY_DENIES_LOGS, the fix names the key policy, not an IAM grant',
    (call) => {
      const e = toStepError('log-group', refused(call)) as StepError;
      expect(e.code).toBe('KEY_POLICY_DENIES_LOGS');
      expect(e.call).toBe(call);
      expect(e.hint).toContain('ssm-setup run kms-key --cloudwatch-logs');
      expect(e.hint).toContain('key policy');
      expect(e.hint).not.toContain('grant the credentials');
      expect(e.hint).toContain('ssm-setup run log-group');
    },
  );

  it('the hint carries the exact statement for the region, account and partition of the group', () => {
    const e = toStepError('log-group', refused('CloudWatchLogs.CreateLogGroup')) as StepError;
    const json = /\{.*\}/.exec(e.hint!)![0];
    expect(JSON.parse(json)).toMatchObject({
      Sid: LOGS_STATEMENT_SID,
      Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:*' } },
    });
  });

  it('without the call tag (a mocked client) the message alone is enough', () => {
    const err = refused('');
    delete (err as { $ssmSetupCall?: string }).$ssmSetupCall;
    expect((toStepError('log-group', err) as StepError).code).toBe('KEY_POLICY_DENIES_LOGS');
  });

  it('a plain AccessDenied of CreateLogGroup stays ACCESS_DENIED with its IAM action', () => {
    const err = Object.assign(new Error('User: arn:aws:iam::123456789012:user/alice is not authorized to perform: logs:CreateLogGroup'), {
      name: 'AccessDeniedException',
      $ssmSetupCall: 'CloudWatchLogs.CreateLogGroup',
    });
    const e = toStepError('log-group', err) as StepError;
    expect(e.code).toBe('ACCESS_DENIED');
    expect(e.hint).toContain('logs:CreateLogGroup');
  });
});

describe('isAmbiguous: a failure after which the call may have been carried out', () => {
  const err = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : { $metadata: {} }), ...extra });
  it.each([
    ['InternalFailure', 500, true],
    ['ServiceUnavailable', 503, true],
    ['TimeoutError', undefined, true],
    ['Error', undefined, true, { code: 'ECONNRESET', message: 'socket hang up' }],
    ['ThrottlingException', 400, false],
    ['ValidationException', 400, false],
    ['AccessDeniedException', 403, false],
    ['AlreadyExistsException', 400, false],
  ] as [string, number | undefined, boolean, Record<string, unknown>?][])('%s (%s) → %s', (name, status, expected, extra) => {
    expect(isAmbiguous(err(name, status, extra ?? {}))).toBe(expected);
  });
});
