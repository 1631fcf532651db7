import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallRecorder, isWriteCall } from '../../src/aws/calls.js';
import { AwsClients, clientConfig, resolveRegion } from '../../src/aws/clients.js';
import { toStepError } from '../../src/aws/errors.js';
import { StepError, UsageError } from '../../src/base/errors.js';

afterEach(() => vi.unstubAllEnvs());

describe('client factory', () => {
  it('sends every service to the endpoint override, S3 in path style, with adaptive retries', () => {
    expect(clientConfig({ region: 'eu-west-1', endpointUrl: 'http://127.0.0.1:5000', profile: 'dev' })).toEqual({
      region: 'eu-west-1',
      profile: 'dev',
      retryMode: 'adaptive',
      cacheMiddleware: true,
      endpoint: 'http://127.0.0.1:5000',
      forcePathStyle: true,
    });
    expect(clientConfig({ region: 'eu-west-1' })).toEqual({ region: 'eu-west-1', retryMode: 'adaptive', cacheMiddleware: true });
  });

  it('resolves the credentials once for all its clients (an SSO or assume-role profile: one call, not one per client)', async () => {
    let resolved = 0;
    const credentials = async () => {
      resolved++;
      return { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', expiration: new Date(Date.now() + 3_600_000) };
    };
    const aws = new AwsClients({ region: 'eu-west-1', credentials });
    const clients = [aws.get(KMSClient), aws.get(S3Client), aws.once(KMSClient), aws.get(SSMClient)];
    for (const c of clients) await (c.config.credentials as () => Promise<unknown>)();
    expect(resolved).toBe(1);
  });

  it('creates each client once', () => {
    const aws = new AwsClients({ region: 'eu-west-1', endpointUrl: 'http://127.0.0.1:9' }, new CallRecorder(''));
    expect(aws.get(KMSClient)).toBe(aws.get(KMSClient));
  });

  it('records each call and tags its error with Service.Operation (real middleware, closed port)', async () => {
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    const recorder = new CallRecorder('');
    const aws = new AwsClients({ region: 'eu-west-1', endpointUrl: 'http://127.0.0.1:9' }, recorder);
    const error = await aws
      .get(KMSClient)
      .send(new DescribeKeyCommand({ KeyId: 'alias/x' }))
      .catch((e: unknown) => e);
    expect(recorder.calls).toEqual([{ service: 'KMS', operation: 'DescribeKey', write: false }]);
    const wrapped = toStepError('kms-key', error);
    expect(wrapped).toBeInstanceOf(StepError);
    expect((wrapped as StepError).call).toBe('KMS.DescribeKey');
  });

  it('classifies writes by operation name', () => {
    expect(['CreateKey', 'PutKeyPolicy', 'TagResource', 'EnableKeyRotation'].every(isWriteCall)).toBe(true);
    expect(['DescribeKey', 'GetKeyPolicy', 'ListAliases', 'HeadBucket'].some(isWriteCall)).toBe(false);
  });
});

describe('region', () => {
  it('takes the setting when given', async () => {
    expect(await resolveRegion({ region: 'ap-northeast-1' })).toBe('ap-northeast-1');
  });

  it('without any region: a UsageError naming --region', async () => {
    const error = await resolveRegion({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('NO_REGION');
    expect((error as UsageError).message).toContain('--region');
  });
});

describe('access denied', () => {
  it.each([
    ['S3.GetBucketPolicy', 's3:GetBucketPolicy'],
    ['S3.PutBucketEncryption', 's3:PutEncryptionConfiguration'],
    ['S3.HeadBucket', 's3:ListBucket'],
    ['CloudWatchLogs.CreateLogGroup', 'logs:CreateLogGroup'],
    ['KMS.CreateKey', 'kms:CreateKey'],
  ])('names the IAM action missing behind %s', (call, action) => {
    const err = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 }, $ssmSetupCall: call });
    const wrapped = toStepError('log-bucket', err) as StepError;
    expect(wrapped.code).toBe('ACCESS_DENIED');
    expect(wrapped.call).toBe(call);
    expect(wrapped.hint).toContain(`grant the credentials in use ${action} (needed by ${call})`);
    expect(wrapped.hint).toContain('ssm-setup run log-bucket');
  });
});
