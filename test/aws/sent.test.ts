// Issue 15: the runner compiles the steps' modules once the run's first calls are on their way
// (Clients.sent), so the compile overlaps their round trip instead of holding them back.
import { type ClientRequest, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';

let server: Server;
let port: number;
beforeEach(async () => {
  server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  await Promise.all(answers);
  answers = [];
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** The answers of the requests made, awaited before the server closes. */
let answers: Promise<unknown>[] = [];
const post = (): ClientRequest => {
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false });
  answers.push(new Promise((r) => req.on('response', (res) => res.resume().on('end', r)).on('error', r)));
  req.end('x'.repeat(1000));
  return req;
};
const never = new Promise<never>(() => {});

describe('Clients.sent', () => {
  it('resolves once every request started together has been handed to the operating system', async () => {
    const aws = new AwsClients({ region: 'us-east-1' });
    const sent = aws.sent(never);
    const requests = [post(), post()];
    expect(requests.some((r) => r.writableFinished)).toBe(false);
    await sent;
    expect(requests.every((r) => r.writableFinished)).toBe(true);
  });

  it('does not resolve before a request is made, and resolves when `orWhen` settles first (a mocked send)', async () => {
    const aws = new AwsClients({ region: 'us-east-1' });
    let resolved = false;
    let settle!: () => void;
    const answered = new Promise<void>((r) => (settle = r));
    const sent = aws.sent(answered).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(false);
    settle();
    await sent;
    expect(resolved).toBe(true);
    // Unsubscribed: a later request is nobody's business.
    const later = aws.sent(never);
    const req = post();
    await later;
    expect(req.writableFinished).toBe(true);
  });
});
