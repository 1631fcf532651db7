import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of moto_server for the parts of Systems Manager moto does not
 * implement (StartSession, GetConnectionStatus, DescribeInstanceInformation, associations…): it answers the SSM JSON calls
 * `AmazonSSM.DescribeInstanceInformation`, `AmazonSSM.GetConnectionStatus` and
 * `AmazonSSM.ListAssociations` (always empty) itself, from a
 * small table the test fills in, and forwards every other request to moto unchanged (method,
 * path, headers and body as received). Listens on 127.0.0.1 only, on a port the OS hands out.
 */

/** What Systems Manager knows of one instance: only those listed are managed. */
export interface StubInstance {
  readonly pingStatus: 'Online' | 'ConnectionLost' | 'Inactive';
  readonly agentVersion: string;
  readonly platformName?: string;
}

export interface SsmStubTable {
  /** Instance id → its inventory entry; an instance missing here is not managed. */
  instances: Record<string, StubInstance>;
  /** Instance id → GetConnectionStatus; `notconnected` when missing. */
  connection: Record<string, 'connected' | 'notconnected'>;
}

export interface SsmStubProxy {
  /** `http://127.0.0.1:<port>`: give it to the CLI as AWS_ENDPOINT_URL. */
  readonly url: string;
  /** Mutable: the test fills it in once it knows the instance ids. */
  readonly table: SsmStubTable;
  /** The X-Amz-Target of each call answered here, in order. */
  readonly answered: string[];
  /** How many requests went on to moto. */
  forwarded: number;
  close(): Promise<void>;
}

const DESCRIBE = 'AmazonSSM.DescribeInstanceInformation';
const CONNECTION = 'AmazonSSM.GetConnectionStatus';
/** Associations: moto has none; the stub knows none either (destroy lists them). */
const ASSOCIATIONS = 'AmazonSSM.ListAssociations';

interface Filter {
  Key?: string;
  Values?: string[];
}

export async function startSsmStubProxy(upstream: string, table: SsmStubTable = { instances: {}, connection: {} }): Promise<SsmStubProxy> {
  const target = new URL(upstream);
  if (target.protocol !== 'http:' || target.hostname !== '127.0.0.1')
    throw new Error(`the SSM stub proxy forwards to a loopback endpoint only (got ${upstream})`);

  const proxy: SsmStubProxy = {
    url: '',
    table,
    answered: [],
    forwarded: 0,
    close: async () => {},
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': '00000000-0000-4000-8000-000000000000',
    });
    res.end(text);
  };

  const stub = (op: string, body: Record<string, unknown>, res: ServerResponse) => {
    proxy.answered.push(op);
    if (op === DESCRIBE) {
      const filters = (body.Filters as Filter[] | undefined) ?? [];
      const legacy = (body.InstanceInformationFilterList as { key?: string; valueSet?: string[] }[] | undefined) ?? [];
      const ids = filters.find((f) => f.Key === 'InstanceIds')?.Values ?? legacy.find((f) => f.key === 'InstanceIds')?.valueSet;
      const listed = Object.entries(proxy.table.instances).filter(([id]) => !ids || ids.includes(id));
      return answer(res, 200, {
        InstanceInformationList: listed.map(([InstanceId, i]) => ({
          InstanceId,
          PingStatus: i.pingStatus,
          LastPingDateTime: Math.floor(Date.now() / 1000),
          AgentVersion: i.agentVersion,
          IsLatestVersion: false,
          PlatformType: 'Linux',
          PlatformName: i.platformName ?? 'Amazon Linux',
          ResourceType: 'EC2Instance',
        })),
      });
    }
    if (op === ASSOCIATIONS) return answer(res, 200, { Associations: [] });
    const id = String(body.Target ?? '');
    return answer(res, 200, { Target: id, Status: proxy.table.connection[id] ?? 'notconnected' });
  };

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    proxy.forwarded++;
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.once('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`ssm stub proxy: ${err.message}`);
    });
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const op = String(req.headers['x-amz-target'] ?? '');
      if (req.method === 'POST' && (op === DESCRIBE || op === CONNECTION || op === ASSOCIATIONS)) {
        let input: Record<string, unknown>;
        try {
          input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        } catch {
          return answer(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
        }
        return stub(op, input, res);
      }
      forward(req, body, res);
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
