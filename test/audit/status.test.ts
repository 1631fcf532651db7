import { describe, expect, it } from 'vitest';
import type { AuditSession } from '../../src/audit/sessions.js';
import { type Causes, judge, kindOf, NOT_LOGGED_FIX, sessionView, summarize } from '../../src/audit/status.js';
import type { RecordPlaces, SessionRecords } from '../../src/check/records.js';
import { error } from '../../src/diagnose/finding.js';

// The status rules of `audit`, pure: each session's kind, status, reason and JSON entry.

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/ffffffff-12ab-34cd-56ef-1234567890ab';
const BUCKET = 'logs-bucket';
const GROUP = '/aws/ssm/session-logs';
const BOTH: RecordPlaces = { s3: { bucket: BUCKET, prefix: 'session-logs/', encrypted: true, keyArn: KEY }, cloudwatch: { logGroup: GROUP } };
const NO_CAUSES: Causes = { findings: [] };

const session = (over: Partial<AuditSession> = {}): AuditSession => ({
  id: 'alice-0123456789abcdef0',
  target: 'i-0aaaaaaaaaaaaaaa1',
  owner: 'arn:aws:iam::123456789012:user/alice',
  document: 'SSM-SessionManagerRunShell',
  start: new Date('2026-12-01T08:00:00Z'),
  end: new Date('2026-12-01T08:12:30Z'),
  status: 'Terminated',
  state: 'History',
  ...over,
});
const records = (o: { s3?: boolean; cw?: boolean; encryption?: string; kmsKeyId?: string } = {}): SessionRecords => ({
  s3: {
    bucket: BUCKET,
    key: 'session-logs/alice-0123456789abcdef0.log',
    exists: o.s3 ?? true,
    ...(o.s3 === false ? {} : { encryption: o.encryption ?? 'aws:kms', kmsKeyId: o.kmsKeyId ?? KEY }),
  },
  cloudwatch: { logGroup: GROUP, stream: 'alice-0123456789abcdef0', exists: o.cw ?? true },
});

describe('kindOf', () => {
  it('AWS documents by name, the others by their session type, shell when unknown', () => {
    expect(kindOf('SSM-SessionManagerRunShell')).toBe('shell');
    expect(kindOf('')).toBe('shell');
    expect(kindOf('AWS-StartSSHSession')).toBe('tunnel');
    expect(kindOf('AWS-StartPortForwardingSession')).toBe('tunnel');
    expect(kindOf('AWS-StartPortForwardingSessionToRemoteHost')).toBe('tunnel');
    expect(kindOf('AWS-StartInteractiveCommand')).toBe('command');
    expect(kindOf('AWS-StartNonInteractiveCommand')).toBe('command');
    expect(kindOf('Team-Shell', { sessionType: 'Standard_Stream' })).toBe('shell');
    expect(kindOf('Team-Tunnel', { sessionType: 'Port' })).toBe('tunnel');
    expect(kindOf('Team-Cmd', { sessionType: 'InteractiveCommands' })).toBe('command');
    expect(kindOf('Unreadable')).toBe('shell');
  });
});

describe('judge: one status per session', () => {
  it('logged: the object (aws:kms with the session key) and the stream are there', () => {
    expect(judge(session(), 'shell', BOTH, records(), NO_CAUSES)).toEqual({ status: 'logged' });
    // A key id in the object's header matches the key's ARN.
    expect(judge(session(), 'shell', BOTH, records({ kmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }), NO_CAUSES).status).toBe('logged');
  });

  it('missing: no object, naming it, with the likely cause from the account findings and its fix', () => {
    const causes: Causes = { findings: [error('bucket', 'the log bucket logs-bucket does not exist: session uploads fail', 'ssm-setup run log-bucket')] };
    const v = judge(session(), 'shell', BOTH, records({ s3: false }), causes);
    expect(v.status).toBe('missing');
    expect(v.reason).toContain(`s3://${BUCKET}/session-logs/alice-0123456789abcdef0.log`);
    expect(v.reason).toContain('logs-bucket does not exist');
    expect(v.fix).toBe('ssm-setup run log-bucket');
  });

  it('missing: no stream; an account without a problem points at the instance', () => {
    const v = judge(session(), 'shell', BOTH, records({ cw: false }), NO_CAUSES);
    expect(v.status).toBe('missing');
    expect(v.reason).toContain(GROUP);
    expect(v.fix).toBe('ssm-setup check --instance-ids i-0aaaaaaaaaaaaaaa1');
  });

  it('missing: an object encrypted with another key, or with AES256, where the session key is required', () => {
    const other = judge(session(), 'shell', BOTH, records({ kmsKeyId: OTHER_KEY }), { findings: [], bucketKeyArn: OTHER_KEY });
    expect(other.status).toBe('missing');
    expect(other.reason).toContain(OTHER_KEY);
    expect(other.reason).toContain("the bucket's default key");
    expect(other.fix).toBe('ssm-setup run log-bucket');
    expect(judge(session(), 'shell', BOTH, records({ encryption: 'AES256' }), NO_CAUSES).status).toBe('missing');
    // Without s3EncryptionEnabled the object's encryption is not judged.
    const plain: RecordPlaces = { s3: { bucket: BUCKET, prefix: 'session-logs/', encrypted: false } };
    expect(judge(session(), 'shell', plain, records({ encryption: 'AES256' }), NO_CAUSES).status).toBe('logged');
  });

  it('missing: preferences that send the logs nowhere', () => {
    const v = judge(session(), 'shell', {}, undefined, NO_CAUSES);
    expect(v).toMatchObject({ status: 'missing', fix: 'ssm-setup run preferences' });
  });

  it('not-logged: SSH and port forwarding, whatever their records, with the reason and the switch', () => {
    for (const document of ['AWS-StartSSHSession', 'AWS-StartPortForwardingSessionToRemoteHost']) {
      const v = judge(session({ document }), kindOf(document), BOTH, undefined, NO_CAUSES);
      expect(v.status).toBe('not-logged');
      expect(v.reason).toContain('never records their content');
      expect(v.fix).toBe(NOT_LOGGED_FIX);
    }
  });

  it('not-logged: a command session without any record (a tunnel); logged with its records; missing with one of two', () => {
    const cmd = session({ document: 'AWS-StartInteractiveCommand' });
    expect(judge(cmd, 'command', BOTH, records({ s3: false, cw: false }), NO_CAUSES).status).toBe('not-logged');
    expect(judge(cmd, 'command', BOTH, records(), NO_CAUSES).status).toBe('logged');
    expect(judge(cmd, 'command', BOTH, records({ cw: false }), NO_CAUSES).status).toBe('missing');
  });

  it('not-logged: a failed session without records; active: a running one, records not asked', () => {
    expect(judge(session({ status: 'Failed' }), 'shell', BOTH, records({ s3: false, cw: false }), NO_CAUSES).status).toBe('not-logged');
    expect(judge(session({ status: 'Connected', state: 'Active', end: undefined }), 'shell', BOTH, undefined, NO_CAUSES)).toEqual({ status: 'active' });
  });
});

describe('the JSON shape', () => {
  it('sessionView: every field of the contract, null where nothing was looked up', () => {
    const s = session();
    expect(sessionView(s, { status: 'logged' }, records())).toEqual({
      sessionId: 'alice-0123456789abcdef0',
      target: 'i-0aaaaaaaaaaaaaaa1',
      owner: 'arn:aws:iam::123456789012:user/alice',
      document: 'SSM-SessionManagerRunShell',
      start: '2026-12-01T08:00:00.000Z',
      end: '2026-12-01T08:12:30.000Z',
      status: 'logged',
      s3: { bucket: BUCKET, key: 'session-logs/alice-0123456789abcdef0.log', exists: true, encryption: 'aws:kms', kmsKeyId: KEY },
      cloudwatch: { logGroup: GROUP, stream: 'alice-0123456789abcdef0', exists: true },
    });
    const active = sessionView(session({ document: '', end: undefined, state: 'Active' }), { status: 'active' }, undefined);
    expect(active).toMatchObject({ document: 'SSM-SessionManagerRunShell', end: null, s3: null, cloudwatch: null, status: 'active' });
    expect(Object.keys(sessionView(s, { status: 'missing', reason: 'r', fix: 'f' }, records({ s3: false })))).toEqual([
      'sessionId',
      'target',
      'owner',
      'document',
      'start',
      'end',
      'status',
      's3',
      'cloudwatch',
      'reason',
      'fix',
    ]);
    expect(sessionView(s, { status: 'missing' }, records({ s3: false })).s3).toEqual({
      bucket: BUCKET,
      key: 'session-logs/alice-0123456789abcdef0.log',
      exists: false,
      encryption: null,
    });
  });

  it('summarize counts each status', () => {
    const views = (['logged', 'logged', 'missing', 'not-logged', 'active'] as const).map((status) => ({ status }));
    expect(summarize(views)).toEqual({ total: 5, logged: 2, missing: 1, notLogged: 1, active: 1 });
  });
});
