import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { CallRecorder } from '../../src/aws/calls.js';
import { AwsClients } from '../../src/aws/clients.js';

/**
 * A loopback KMS on 127.0.0.1 that records every request reaching it (`X-Amz-Target` and body)
 * and answers each with one DescribeKey-shaped answer, after `delayMs`. For what lives in the
 * SDK middleware of src/aws/clients.ts (the read cache, the Ctrl-C stop), which
 * aws-sdk-client-mock would bypass. Registers its own beforeAll/afterAll/beforeEach.
 */
export function loopbackKms() {
  let server: Server;
  const state = { url: '', delayMs: 0, received: [] as string[], onRequest: (() => {}) as (target: string) => void };
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const target = String(req.headers['x-amz-target']);
        state.received.push(`${target} ${body}`);
        state.onRequest(target);
        setTimeout(() => {
          res.setHeader('content-type', 'application/x-amz-json-1.1');
          res.end(JSON.stringify({ KeyMetadata: { KeyId: 'k1', Arn: 'arn:aws:kms:eu-west-1:123456789012:key/k1' } }));
        }, state.delayMs);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    state.received.length = 0;
    state.delayMs = 0;
    state.onRequest = () => {};
  });
  return Object.assign(state, {
    /** Real clients pointed at the loopback. */
    clients: (signal?: AbortSignal) => new AwsClients({ region: 'eu-west-1', endpointUrl: state.url }, new CallRecorder(''), signal),
  });
}
