import { createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of moto_server that loses answers: every request is forwarded
 * unchanged (method, path, headers, body), and for the ones `lose` picks the proxy waits for
 * moto's whole answer (so the call has been carried out) and then drops the client's connection
 * instead of passing it on: the client sees a reset socket (`socket hang up`), as when an answer
 * is lost on the way back. Listens on 127.0.0.1 only, on a port the OS hands out.
 */

/** What `lose` is shown of a request. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  /** The X-Amz-Target header (JSON protocols: `TrentService.CreateKey`), or ''. */
  readonly target: string;
  readonly body: string;
}

export interface LossyProxy {
  /** `http://127.0.0.1:<port>`: give it to the CLI as AWS_ENDPOINT_URL. */
  readonly url: string;
  /** The requests whose answer was dropped, as `lose` saw them, in order. */
  readonly lost: ProxiedRequest[];
  /** How many requests went on to moto (the lost ones included). */
  forwarded: number;
  /** The requests `refuse` answered with an error, in order (they never reach moto). */
  readonly refused: ProxiedRequest[];
  close(): Promise<void>;
}

/** Loses the answer of the first `times` requests that `match` picks (e.g. the first CreateKey). */
export const firstOf = (match: (r: ProxiedRequest) => boolean, times = 1) => {
  let left = times;
  return (r: ProxiedRequest) => {
    if (left <= 0 || !match(r)) return false;
    left--;
    return true;
  };
};

/**
 * `holdMs`: how long to hold a request before forwarding it (0: at once), so that a test can act
 * while that call is in flight (press Ctrl-C during a slow CreateBucket). `refuse`: answer a
 * request the way AWS refuses it, as a Query-protocol error (HTTP 403, STS's ErrorResponse XML),
 * e.g. sts:AssumeRole into an account whose role does not trust the caller (moto lets any caller
 * assume any role).
 */
export async function startLossyProxy(
  upstream: string,
  lose: (r: ProxiedRequest) => boolean,
  opts: {
    readonly holdMs?: (r: ProxiedRequest) => number;
    readonly refuse?: (r: ProxiedRequest) => { code: string; message: string } | undefined;
  } = {},
): Promise<LossyProxy> {
  const target = new URL(upstream);
  if (target.protocol !== 'http:' || target.hostname !== '127.0.0.1') throw new Error(`the lossy proxy forwards to a loopback endpoint only (got ${upstream})`);
  const proxy: LossyProxy = { url: '', lost: [], refused: [], forwarded: 0, close: async () => {} };

  const forward = (
    req: IncomingMessage,
    body: Buffer,
    onAnswer: (status: number, headers: IncomingMessage['headers'], answer: Buffer) => void,
    onError: (err: Error) => void,
  ) => {
    proxy.forwarded++;
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => onAnswer(up.statusCode ?? 502, up.headers, Buffer.concat(chunks)));
    });
    out.once('error', onError);
    out.end(body);
  };

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
      const error = opts.refuse?.(seen);
      if (error) {
        proxy.refused.push(seen);
        const xml = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${error.code}</Code><Message>${error.message}</Message></Error><RequestId>refused-1</RequestId></ErrorResponse>`;
        res.writeHead(403, { 'content-type': 'text/xml', 'x-amzn-requestid': 'refused-1' });
        res.end(xml);
        return;
      }
      const drop = lose(seen);
      const hold = opts.holdMs?.(seen) ?? 0;
      const go = () =>
        forward(
          req,
          body,
          (status, headers, answer) => {
            if (drop) {
              // Carried out by moto; the answer never reaches the client.
              proxy.lost.push(seen);
              req.socket.destroy();
              return;
            }
            res.writeHead(status, headers);
            res.end(answer);
          },
          (err) => {
            if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(`lossy proxy: ${err.message}`);
          },
        );
      if (hold > 0) setTimeout(go, hold);
      else go();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  });
}

/** The form body of a Query-protocol call (STS): `Action=AssumeRole&RoleArn=…`, decoded. */
export const queryParams = (body: string) => new URLSearchParams(body);
