import { CreateAliasCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { loopbackKms } from '../helpers/loopback-kms.js';

// The read cache is SDK middleware, so it is tested with real clients against a loopback KMS that
// counts what reaches it (aws-sdk-client-mock would bypass the middleware).
const kmsServer = loopbackKms();
const received = kmsServer.received;
const clients = () => kmsServer.clients();

describe('withReadCache', () => {
  it('inside the span the same read is sent once, each caller gets its own copy, and it is recorded once', async () => {
    const aws = clients();
    const kms = aws.get(KMSClient);
    const [a, b] = await aws.withReadCache(async () => {
      const first = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/x' }));
      first.KeyMetadata!.KeyId = 'changed by the first caller';
      return [first, await kms.send(new DescribeKeyCommand({ KeyId: 'alias/x' }))];
    });
    expect(received.filter((r) => r.startsWith('TrentService.DescribeKey'))).toHaveLength(1);
    expect(b.KeyMetadata?.KeyId).toBe('k1');
    expect(a).not.toBe(b);
    expect(aws.recorder.calls.map((c) => c.operation)).toEqual(['DescribeKey']);
  });

  it('the same input with its fields set in another order is the same read', async () => {
    const aws = clients();
    const kms = aws.get(KMSClient);
    await aws.withReadCache(async () => {
      await kms.send(new DescribeKeyCommand({ KeyId: 'alias/x', GrantTokens: ['t'] }));
      await kms.send(new DescribeKeyCommand({ GrantTokens: ['t'], KeyId: 'alias/x' }));
    });
    expect(received.filter((r) => r.startsWith('TrentService.DescribeKey'))).toHaveLength(1);
  });

  it('another input is another read; writes are always sent; outside the span nothing is shared', async () => {
    const aws = clients();
    const kms = aws.get(KMSClient);
    await aws.withReadCache(async () => {
      await kms.send(new DescribeKeyCommand({ KeyId: 'alias/x' }));
      await kms.send(new DescribeKeyCommand({ KeyId: 'alias/y' }));
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/z', TargetKeyId: 'k1' }));
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/z', TargetKeyId: 'k1' }));
    });
    await kms.send(new DescribeKeyCommand({ KeyId: 'alias/x' }));
    await kms.send(new DescribeKeyCommand({ KeyId: 'alias/x' }));
    expect(received.map((r) => r.split(' ')[0])).toEqual([
      'TrentService.DescribeKey',
      'TrentService.DescribeKey',
      'TrentService.CreateAlias',
      'TrentService.CreateAlias',
      'TrentService.DescribeKey',
      'TrentService.DescribeKey',
    ]);
  });
});
