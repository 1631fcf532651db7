import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateAliasCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CallRecorder } from '../../src/aws/calls.js';
import { AwsClients } from '../../src/aws/clients.js';

// The read cache is SDK middleware, so it is tested with real clients against a loopback KMS that
// counts what reaches it (aws-sdk-client-mock would bypass the middleware).
let server: Server;
let url = '';
const received: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      received.push(`${req.headers['x-amz-target']} ${body}`);
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end(JSON.stringify({ KeyMetadata: { KeyId: 'k1', Arn: 'arn:aws:kms:eu-west-1:123456789012:key/k1' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received.length = 0;
});

const clients = () => new AwsClients({ region: 'eu-west-1', endpointUrl: url }, new CallRecorder(''));

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
