import { CreateAliasCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/base/errors.js';
import { loopbackKms } from '../helpers/loopback-kms.js';

// Ctrl-C (issue 14.3) stops calls in the SDK middleware, so real clients against a loopback KMS.
const kmsServer = loopbackKms();
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'sent',
    (e: unknown) => (e instanceof AbortedError ? e.code : String(e)),
  );

describe('Ctrl-C in the clients', () => {
  it('the call in flight finishes; the next one fails with INTERRUPTED and never reaches AWS', async () => {
    const interrupt = new AbortController();
    const kms = kmsServer.clients(interrupt.signal).get(KMSClient);
    kmsServer.delayMs = 50;
    kmsServer.onRequest = () => interrupt.abort();
    const inFlight = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/x' }));
    expect(inFlight.KeyMetadata?.KeyId).toBe('k1');
    expect(await codeOf(kms.send(new CreateAliasCommand({ AliasName: 'alias/z', TargetKeyId: 'k1' })))).toBe('INTERRUPTED');
    expect(kmsServer.received.map((r) => r.split(' ')[0])).toEqual(['TrentService.DescribeKey']);
  });

  it('the clean-up (evenIfInterrupted) still goes out, and only inside it; without a signal nothing stops', async () => {
    const interrupt = new AbortController();
    interrupt.abort();
    const aws = kmsServer.clients(interrupt.signal);
    const kms = aws.get(KMSClient);
    expect(await codeOf(aws.evenIfInterrupted(() => kms.send(new DescribeKeyCommand({ KeyId: 'alias/lease' }))))).toBe('sent');
    expect(await codeOf(kms.send(new DescribeKeyCommand({ KeyId: 'alias/after' })))).toBe('INTERRUPTED');
    expect(await codeOf(aws.once(KMSClient).send(new DescribeKeyCommand({ KeyId: 'alias/once' })))).toBe('INTERRUPTED');
    expect(
      await codeOf(
        kmsServer
          .clients()
          .get(KMSClient)
          .send(new DescribeKeyCommand({ KeyId: 'alias/free' })),
      ),
    ).toBe('sent');
    expect(kmsServer.received.map((r) => JSON.parse(r.slice(r.indexOf(' ') + 1)).KeyId)).toEqual(['alias/lease', 'alias/free']);
  });
});
