import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxiedRequest } from './lossy-proxy.js';

/**
 * A loopback HTTP proxy in front of moto_server that refuses some requests the way AWS refuses
 * them: `refuse` picks a request and names the error (e.g. sts:AssumeRole into an account whose
 * role does not exist or does not trust the caller: `AccessDenied`), answered as a Query-protocol
 * error (HTTP 403, the ErrorResponse XML of STS); everything else goes on to moto unchanged.
 * moto itself lets any caller assume any role in any account. Listens on 127.0.0.1 only.
 */
export interface RefusingProxy {
  readonly url: string;
  /** The requests refused, in order. */
  readonly refused: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startRefusingProxy(
  upstream: string,
  refuse: (r: ProxiedRequest) => { code: string; message: string } | undefined,
): Promise<RefusingProxy> {
  const target = new URL(upstream);
  if (target.protocol !== 'http:' || target.hostname !== '127.0.0.1')
    throw new Error(`the refusing proxy forwards to a loopback endpoint only (got ${upstream})`);
  const refused: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const seen: ProxiedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        target: String(req.headers['x-amz-target'] ?? ''),
        body: body.toString('utf8'),
      };
      const error = refuse(seen);
      if (error) {
        refused.push(seen);
        const xml = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${error.code}</Code><Message>${error.message}</Message></Error><RequestId>refused-1</RequestId></ErrorResponse>`;
        res.writeHead(403, { 'content-type': 'text/xml', 'x-amzn-requestid': 'refused-1' });
        res.end(xml);
        return;
      }
      const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.once('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`refusing proxy: ${err.message}`);
      });
      out.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refused,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** The form body of an STS Query call: `Action=AssumeRole&RoleArn=…`, decoded. */
export const queryParams = (body: string) => new URLSearchParams(body);
