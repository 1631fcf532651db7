import { DescribeSessionsCommand, GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { documentInfo, listSessions, readDocuments } from '../../src/audit/sessions.js';
import { describeSessionsPage, type FakeSession, fakeSessions, ssmError } from '../helpers/fake-sessions.js';
import { testClients } from '../helpers/fixtures.js';

// DescribeSessions is not in moto: the strict fake of test/helpers/fake-sessions.ts answers.

const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';
const NOW = Date.parse('2026-12-02T10:00:00Z');
const at = (hoursAgo: number) => new Date(NOW - hoursAgo * 3_600_000);
const ended = (id: string, target: string, hoursAgo: number, over: Partial<FakeSession> = {}): FakeSession => ({
  SessionId: id,
  Target: target,
  Status: 'Terminated',
  StartDate: at(hoursAgo),
  EndDate: at(hoursAgo - 0.5),
  DocumentName: 'SSM-SessionManagerRunShell',
  Owner: 'arn:aws:iam::123456789012:user/alice',
  ...over,
});

let ssm: AwsClientStub<SSMClient>;
let fake: ReturnType<typeof fakeSessions>;
beforeEach(() => {
  ssm = mockClient(SSMClient);
  fake = fakeSessions({ mock: ssm });
});
afterEach(() => ssm.restore());

describe('the DescribeSessions fake is as strict as the API', () => {
  const sessions = [ended('alice-1', A, 1)];
  const code = (input: Parameters<typeof describeSessionsPage>[1]) => {
    try {
      describeSessionsPage(sessions, input);
      return 'ok';
    } catch (err) {
      return (err as Error).name;
    }
  };
  it('State required; MaxResults 1..200; filter keys of the API; dates as 2024-08-29T00:00:00Z; tokens bound to their request', () => {
    expect(code({})).toBe('ValidationException');
    expect(code({ State: 'Ended' })).toBe('ValidationException');
    expect(code({ State: 'History', MaxResults: 0 })).toBe('ValidationException');
    expect(code({ State: 'History', MaxResults: 201 })).toBe('ValidationException');
    expect(code({ State: 'History', MaxResults: 200 })).toBe('ok');
    expect(code({ State: 'History', Filters: [] })).toBe('ValidationException');
    expect(code({ State: 'History', Filters: [{ key: 'Instance', value: A }] })).toBe('ValidationException');
    expect(code({ State: 'History', Filters: [{ key: 'InvokedAfter', value: '2026-12-01' }] })).toBe('ValidationException');
    expect(code({ State: 'History', Filters: [{ key: 'InvokedAfter', value: '2026-12-01T00:00:00Z' }] })).toBe('ok');
    const many = Array.from({ length: 3 }, (_, n) => ended(`bob-${n}`, A, n + 1));
    const first = describeSessionsPage(many, { State: 'History', MaxResults: 2 });
    expect(first.Sessions.map((s) => s.SessionId)).toEqual(['bob-0', 'bob-1']);
    expect(describeSessionsPage(many, { State: 'History', MaxResults: 2, NextToken: first.NextToken }).Sessions.map((s) => s.SessionId)).toEqual(['bob-2']);
    expect(() => describeSessionsPage(many, { State: 'Active', MaxResults: 2, NextToken: first.NextToken })).toThrow(
      expect.objectContaining({ name: 'InvalidNextToken' }),
    );
  });
});

describe('listSessions', () => {
  it('the window by InvokedAfter, every running session, newest first, 200 a page over every page', async () => {
    fake.add(...Array.from({ length: 450 }, (_, n) => ended(`alice-${String(n).padStart(17, '0')}`, n % 2 ? A : B, 1 + n / 100)));
    fake.add(ended('alice-old', A, 24 * 10), { ...ended('alice-live', A, 0.2), Status: 'Connected', EndDate: undefined });
    const found = await listSessions(testClients(), { since: at(24 * 7) });
    expect(found).toHaveLength(451);
    expect(found.map((s) => s.id)).not.toContain('alice-old');
    expect(found[0]).toMatchObject({ id: 'alice-live', state: 'Active', status: 'Connected' });
    expect(found.find((s) => s.id === 'alice-00000000000000000')).toMatchObject({ state: 'History', target: B, document: 'SSM-SessionManagerRunShell' });
    const reqs = fake.requests();
    expect(reqs.every((r) => r.MaxResults === 200)).toBe(true);
    expect(reqs.filter((r) => r.State === 'History')).toHaveLength(3);
    expect(reqs.find((r) => r.State === 'History')!.Filters).toEqual([{ key: 'InvokedAfter', value: '2026-11-25T10:00:00Z' }]);
    expect(reqs.find((r) => r.State === 'Active')!.Filters).toBeUndefined();

    const wider = await listSessions(testClients(), { since: at(24 * 11) });
    expect(wider.map((s) => s.id)).toContain('alice-old');
  });

  it('a few targets: one listing each with the Target filter; many: the window, kept by target', async () => {
    fake.add(ended('alice-a', A, 1), ended('alice-b', B, 2));
    expect((await listSessions(testClients(), { since: at(24), targets: [A] })).map((s) => s.id)).toEqual(['alice-a']);
    expect(fake.requests().every((r) => r.Filters?.some((f) => f.key === 'Target' && f.value === A))).toBe(true);
    const many = [A, ...Array.from({ length: 6 }, (_, n) => `i-0${String(n).repeat(16)}`)];
    expect((await listSessions(testClients(), { since: at(24), targets: many })).map((s) => s.id)).toEqual(['alice-a']);
  });

  it('a session that ended between the two listings is listed once, as History', async () => {
    fake.add({ ...ended('alice-x', A, 1), Status: 'Connected', EndDate: undefined });
    let listings = 0;
    ssm.on(DescribeSessionsCommand).callsFake(async (input) => {
      // The session ends right after the Active listing.
      if (listings++ === 1) fake.sessions[0] = ended('alice-x', A, 1);
      return describeSessionsPage(fake.sessions, input);
    });
    const found = await listSessions(testClients(), { since: at(24) });
    expect(found).toEqual([expect.objectContaining({ id: 'alice-x', state: 'History' })]);
  });
});

describe('readDocuments and documentInfo', () => {
  it('reads each unknown document once, never the AWS ones; a document that cannot be read is left out', async () => {
    ssm
      .on(GetDocumentCommand, { Name: 'Team-Shell' })
      .resolves({ Content: JSON.stringify({ sessionType: 'Standard_Stream', inputs: { s3BucketName: 'team' } }) });
    ssm.on(GetDocumentCommand, { Name: 'Gone' }).rejects(ssmError('InvalidDocument', 'The specified document does not exist.'));
    const docs = await readDocuments(testClients(), ['Team-Shell', 'Team-Shell', 'Gone', 'AWS-StartSSHSession', 'SSM-SessionManagerRunShell', '']);
    expect([...docs.keys()]).toEqual(['Team-Shell']);
    expect(docs.get('Team-Shell')).toEqual({ sessionType: 'Standard_Stream', inputs: { s3BucketName: 'team' } });
    expect(
      ssm
        .commandCalls(GetDocumentCommand)
        .map((c) => c.args[0].input.Name)
        .sort(),
    ).toEqual(['Gone', 'Team-Shell']);
  });

  it('YAML content: the session type only', () => {
    expect(documentInfo('schemaVersion: "1.0"\nsessionType: Port\nparameters: {}\n')).toEqual({ sessionType: 'Port' });
  });
});
