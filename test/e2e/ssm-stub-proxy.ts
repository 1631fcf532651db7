import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeSessionsPage, type FakeSession } from '../helpers/fake-sessions.js';

/**
 * A loopback HTTP proxy in front of moto_server for the parts of Systems Manager moto does not
 * implement: it answers these SSM JSON calls itself and forwards every other request to moto
 * unchanged (method, path, headers and body as received). Listens on 127.0.0.1 only, on a port
 * the OS hands out.
 *
 * - `DescribeInstanceInformation` and `GetConnectionStatus`, from a small table the test fills in.
 * - State Manager associations, held statefully in `associations` (moto has none):
 *   CreateAssociation (names are not made unique, as in SSM), ListAssociations (the
 *   `AssociationName` filter matched as a prefix, the wider reading of an API that does not say,
 *   and `Name` exactly; NextToken pages), DescribeAssociation, UpdateAssociation (the whole
 *   state replaced, as SSM does) and DeleteAssociation by AssociationId (AssociationDoesNotExist
 *   otherwise), and ListTagsForResource / AddTagsToResource / RemoveTagsFromResource when the
 *   ResourceType is `Association` (InvalidResourceId for an unknown id); the tagging calls of any
 *   other resource type go on to moto.
 * - `DescribeSessions`, from the seeded `sessions` (moto has no Session Manager sessions), as
 *   strict as the API: test/helpers/fake-sessions.ts `describeSessionsPage` answers, dates as
 *   epoch seconds the way the JSON protocol carries them.
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

/** One State Manager association the stub holds, as DescribeAssociation returns it, with its tags. */
export interface StubAssociation {
  readonly AssociationId: string;
  AssociationName?: string;
  Name: string;
  AssociationVersion: string;
  Targets?: unknown[];
  ScheduleExpression?: string;
  Parameters?: Record<string, string[]>;
  tags: Record<string, string>;
}

export interface SsmStubProxy {
  /** `http://127.0.0.1:<port>`: give it to the CLI as AWS_ENDPOINT_URL. */
  readonly url: string;
  /** Mutable: the test fills it in once it knows the instance ids. */
  readonly table: SsmStubTable;
  /** The associations, by AssociationId: what the calls made, and what a test seeds (`addAssociation`). */
  readonly associations: Map<string, StubAssociation>;
  /** Seeds an association as someone else would make it; returns its id. */
  addAssociation(a: Omit<StubAssociation, 'AssociationId' | 'AssociationVersion' | 'tags'> & { tags?: Record<string, string> }): string;
  /** The sessions DescribeSessions lists: the test seeds them (moto has none). */
  readonly sessions: FakeSession[];
  /** The X-Amz-Target of each call answered here, in order. */
  readonly answered: string[];
  /** How many requests went on to moto. */
  forwarded: number;
  close(): Promise<void>;
}

const DESCRIBE = 'AmazonSSM.DescribeInstanceInformation';
const CONNECTION = 'AmazonSSM.GetConnectionStatus';
const SESSIONS = 'AmazonSSM.DescribeSessions';
/** The association calls answered here, whatever their body. */
const ASSOCIATION_OPS = ['CreateAssociation', 'ListAssociations', 'DescribeAssociation', 'UpdateAssociation', 'DeleteAssociation'].map((o) => `AmazonSSM.${o}`);
/** The tagging calls answered here when their ResourceType is `Association`. */
const TAGGING_OPS = ['ListTagsForResource', 'AddTagsToResource', 'RemoveTagsFromResource'].map((o) => `AmazonSSM.${o}`);
const PAGE = 50;

interface Filter {
  Key?: string;
  Values?: string[];
}

export async function startSsmStubProxy(upstream: string, table: SsmStubTable = { instances: {}, connection: {} }): Promise<SsmStubProxy> {
  const target = new URL(upstream);
  if (target.protocol !== 'http:' || target.hostname !== '127.0.0.1')
    throw new Error(`the SSM stub proxy forwards to a loopback endpoint only (got ${upstream})`);

  let made = 0;
  const associations = new Map<string, StubAssociation>();
  const addAssociation: SsmStubProxy['addAssociation'] = (a) => {
    const AssociationId = `00000000-0000-4000-8000-${(++made).toString(16).padStart(12, '0')}`;
    associations.set(AssociationId, { ...structuredClone(a), AssociationId, AssociationVersion: '1', tags: { ...a.tags } });
    return AssociationId;
  };
  const proxy: SsmStubProxy = {
    url: '',
    table,
    associations,
    addAssociation,
    sessions: [],
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
    if (ASSOCIATION_OPS.includes(op) || TAGGING_OPS.includes(op)) return associationCall(op.slice('AmazonSSM.'.length), body, res);
    if (op === SESSIONS) return sessionsCall(body, res);
    const id = String(body.Target ?? '');
    return answer(res, 200, { Target: id, Status: proxy.table.connection[id] ?? 'notconnected' });
  };

  const fail = (res: ServerResponse, type: string, message: string) => answer(res, 400, { __type: type, message });
  /** What DescribeAssociation returns: the state without the tags, dates as epoch seconds. */
  const description = ({ tags: _tags, ...a }: StubAssociation) => ({ ...structuredClone(a), DocumentVersion: '$DEFAULT', Date: Math.floor(Date.now() / 1000) });
  const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

  const associationCall = (op: string, body: Record<string, unknown>, res: ServerResponse) => {
    const find = (id: unknown) => associations.get(String(id ?? ''));
    const missing = (id: unknown) => fail(res, 'AssociationDoesNotExist', `The association ${String(id)} does not exist.`);
    if (op === 'CreateAssociation') {
      const tags = Object.fromEntries(((body.Tags as { Key: string; Value: string }[] | undefined) ?? []).map((t) => [t.Key, t.Value]));
      const id = addAssociation({
        Name: String(body.Name),
        AssociationName: body.AssociationName as string | undefined,
        Targets: body.Targets as unknown[] | undefined,
        ScheduleExpression: body.ScheduleExpression as string | undefined,
        Parameters: body.Parameters as Record<string, string[]> | undefined,
        tags,
      });
      return answer(res, 200, { AssociationDescription: description(associations.get(id)!) });
    }
    if (op === 'ListAssociations') {
      const filters = (body.AssociationFilterList as { key?: string; value?: string }[] | undefined) ?? [];
      const bad = filters.find((f) => f.key !== 'AssociationName' && f.key !== 'Name');
      if (bad) return fail(res, 'InvalidFilterKey', `ssm stub proxy: association filter ${bad.key} not modelled`);
      const matching = [...associations.values()].filter((a) =>
        filters.every((f) => (f.key === 'Name' ? a.Name === f.value : (a.AssociationName ?? '').startsWith(f.value ?? ''))),
      );
      const start = Number(body.NextToken ?? 0);
      const end = start + Math.min(Number(body.MaxResults ?? PAGE), PAGE);
      const Associations = matching.slice(start, end).map((a) => ({
        AssociationId: a.AssociationId,
        AssociationName: a.AssociationName,
        Name: a.Name,
        AssociationVersion: a.AssociationVersion,
        Targets: a.Targets,
        ScheduleExpression: a.ScheduleExpression,
      }));
      return answer(res, 200, { Associations, ...(end < matching.length ? { NextToken: String(end) } : {}) });
    }
    if (op === 'DescribeAssociation') {
      const a = find(body.AssociationId);
      return a ? answer(res, 200, { AssociationDescription: description(a) }) : missing(body.AssociationId);
    }
    if (op === 'UpdateAssociation') {
      const a = find(body.AssociationId);
      if (!a) return missing(body.AssociationId);
      // SSM replaces the whole state: an optional field not sent is gone (the document name stays).
      Object.assign(a, {
        Name: (body.Name as string | undefined) ?? a.Name,
        AssociationName: body.AssociationName as string | undefined,
        Targets: body.Targets as unknown[] | undefined,
        ScheduleExpression: body.ScheduleExpression as string | undefined,
        Parameters: body.Parameters as Record<string, string[]> | undefined,
        AssociationVersion: String(Number(a.AssociationVersion) + 1),
      });
      return answer(res, 200, { AssociationDescription: description(a) });
    }
    if (op === 'DeleteAssociation') {
      if (!find(body.AssociationId)) return missing(body.AssociationId);
      associations.delete(String(body.AssociationId));
      return answer(res, 200, {});
    }
    // The tagging calls, ResourceType Association (the others went on to moto).
    const a = find(body.ResourceId);
    if (!a) return fail(res, 'InvalidResourceId', `The resource ID ${String(body.ResourceId)} is not valid. Verify the ID and try again.`);
    if (op === 'ListTagsForResource') return answer(res, 200, { TagList: tagList(a.tags) });
    if (op === 'AddTagsToResource') for (const t of (body.Tags as { Key: string; Value: string }[] | undefined) ?? []) a.tags[t.Key] = t.Value;
    else for (const k of (body.TagKeys as string[] | undefined) ?? []) delete a.tags[k];
    return answer(res, 200, {});
  };

  const seconds = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);
  const sessionsCall = (body: Record<string, unknown>, res: ServerResponse) => {
    try {
      const page = describeSessionsPage(proxy.sessions, body);
      const Sessions = page.Sessions.map((x) => ({ ...x, StartDate: seconds(x.StartDate), EndDate: seconds(x.EndDate) }));
      return answer(res, 200, { Sessions, ...(page.NextToken ? { NextToken: page.NextToken } : {}) });
    } catch (err) {
      return fail(res, (err as Error).name, (err as Error).message);
    }
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
      if (req.method === 'POST' && (op === DESCRIBE || op === CONNECTION || op === SESSIONS || ASSOCIATION_OPS.includes(op) || TAGGING_OPS.includes(op))) {
        let input: Record<string, unknown>;
        try {
          input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        } catch {
          return answer(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
        }
        if (!TAGGING_OPS.includes(op) || input.ResourceType === 'Association') return stub(op, input, res);
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
