import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/policies/evaluate.js';
import type { PolicyDocument, PolicyStatement } from '../../src/policies/types.js';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/ffffffff-0000-0000-0000-000000000000';
const OBJECT = 'arn:aws:s3:::ssm-session-logs-123456789012-eu-west-1/session-logs/ssm-setup-check.log';

const policy = (...Statement: (PolicyStatement | Record<string, unknown>)[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: Statement as PolicyStatement[],
});
const allow = (Action: string | string[], Resource: string | string[] = '*', more: Record<string, unknown> = {}) =>
  ({ Effect: 'Allow', Action, Resource, ...more }) as PolicyStatement;
const deny = (Action: string | string[], Resource: string | string[] = '*', more: Record<string, unknown> = {}) =>
  ({ Effect: 'Deny', Action, Resource, ...more }) as PolicyStatement;

describe('evaluate: a coarse reading of identity policies', () => {
  it('nothing grants it: implicit deny', () => {
    expect(evaluate([], 'kms:Decrypt', KEY)).toBe('implicit-deny');
    expect(evaluate([policy(allow('kms:Encrypt', KEY))], 'kms:Decrypt', KEY)).toBe('implicit-deny');
  });

  it('an exact action on an exact resource: allowed', () => {
    expect(evaluate([policy(allow('kms:Decrypt', KEY))], 'kms:Decrypt', KEY)).toBe('allowed');
  });

  it('the action right, the resource another: implicit deny', () => {
    expect(evaluate([policy(allow('kms:Decrypt', OTHER_KEY))], 'kms:Decrypt', KEY)).toBe('implicit-deny');
  });

  it('reads Action and Resource as a string or a list', () => {
    expect(evaluate([policy(allow(['kms:Encrypt', 'kms:Decrypt'], [OTHER_KEY, KEY]))], 'kms:Decrypt', KEY)).toBe('allowed');
  });

  it('looks through every statement of every policy', () => {
    const a = policy(allow('s3:PutObject', OBJECT));
    const b = policy(allow('kms:Encrypt', KEY), allow('kms:Decrypt', KEY));
    expect(evaluate([a, b], 'kms:Decrypt', KEY)).toBe('allowed');
    expect(evaluate([a, b], 's3:PutObject', OBJECT)).toBe('allowed');
    expect(evaluate([a, b], 's3:GetObject', OBJECT)).toBe('implicit-deny');
  });

  describe('wildcards', () => {
    it.each([
      ['*', 'kms:Decrypt'],
      ['kms:*', 'kms:Decrypt'],
      ['kms:Gen*', 'kms:GenerateDataKey'],
      ['kms:GenerateDataKey*', 'kms:GenerateDataKey'],
      ['ssmmessages:Open?ataChannel', 'ssmmessages:OpenDataChannel'],
      ['ssmmessages:*Channel', 'ssmmessages:CreateControlChannel'],
    ])('action %s matches %s', (pattern, action) => {
      expect(evaluate([policy(allow(pattern, '*'))], action, KEY)).toBe('allowed');
    });

    it.each([
      ['kms:Gen*', 'kms:Decrypt'],
      ['s3:*', 'kms:Decrypt'],
      // `?` is exactly one character.
      ['ssmmessages:Open?Channel', 'ssmmessages:OpenDataChannel'],
      // Anchored at both ends: a prefix or a suffix is not a match.
      ['kms:Decrypt', 'kms:DecryptX'],
      ['ms:Decrypt', 'kms:Decrypt'],
    ])('action %s does not match %s', (pattern, action) => {
      expect(evaluate([policy(allow(pattern, '*'))], action, KEY)).toBe('implicit-deny');
    });

    it('action names are case-insensitive (IAM matches them so)', () => {
      expect(evaluate([policy(allow('KMS:decrypt', KEY))], 'kms:Decrypt', KEY)).toBe('allowed');
      expect(evaluate([policy(allow('ssm:startsession', '*'))], 'ssm:StartSession', '*')).toBe('allowed');
    });

    it('resources match with * and ?, case-sensitively', () => {
      expect(evaluate([policy(allow('s3:PutObject', 'arn:aws:s3:::ssm-session-logs-123456789012-eu-west-1/session-logs/*'))], 's3:PutObject', OBJECT)).toBe(
        'allowed',
      );
      expect(evaluate([policy(allow('s3:PutObject', 'arn:aws:s3:::ssm-session-logs-*/*'))], 's3:PutObject', OBJECT)).toBe('allowed');
      expect(evaluate([policy(allow('kms:Decrypt', 'arn:aws:kms:eu-west-?:123456789012:key/*'))], 'kms:Decrypt', KEY)).toBe('allowed');
      // Another prefix of the bucket.
      expect(evaluate([policy(allow('s3:PutObject', 'arn:aws:s3:::ssm-session-logs-123456789012-eu-west-1/audit/*'))], 's3:PutObject', OBJECT)).toBe(
        'implicit-deny',
      );
      // ARNs are case-sensitive.
      expect(evaluate([policy(allow('s3:PutObject', 'arn:aws:s3:::SSM-SESSION-LOGS-123456789012-EU-WEST-1/*'))], 's3:PutObject', OBJECT)).toBe('implicit-deny');
    });

    it('regular-expression characters in a pattern are literal: the dot of a bucket name is not "any character"', () => {
      const dotted = [policy(allow('s3:PutObject', 'arn:aws:s3:::logs.example.com/*'))];
      expect(evaluate(dotted, 's3:PutObject', 'arn:aws:s3:::logs.example.com/a')).toBe('allowed');
      expect(evaluate(dotted, 's3:PutObject', 'arn:aws:s3:::logsXexampleYcom/a')).toBe('implicit-deny');
      const group = [policy(allow('logs:PutLogEvents', 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/ssm/(sessions)+:*'))];
      expect(evaluate(group, 'logs:PutLogEvents', 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/ssm/(sessions)+:log-stream:x')).toBe('allowed');
      expect(evaluate(group, 'logs:PutLogEvents', 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/ssm/sessionssessions:log-stream:x')).toBe(
        'implicit-deny',
      );
    });
  });

  describe('Deny wins', () => {
    it('an explicit Deny beats an Allow, whichever comes first', () => {
      expect(evaluate([policy(allow('kms:*', '*'), deny('kms:Decrypt', KEY))], 'kms:Decrypt', KEY)).toBe('denied');
      expect(evaluate([policy(deny('kms:Decrypt', KEY), allow('kms:*', '*'))], 'kms:Decrypt', KEY)).toBe('denied');
      // In separate policies too.
      expect(evaluate([policy(allow('kms:Decrypt', KEY)), policy(deny('kms:*', '*'))], 'kms:Decrypt', KEY)).toBe('denied');
    });

    it('a Deny without any Allow is still "denied", not an implicit deny', () => {
      expect(evaluate([policy(deny('kms:Decrypt', '*'))], 'kms:Decrypt', KEY)).toBe('denied');
    });

    it('a Deny of another action or another resource does not apply', () => {
      const docs = [policy(allow('kms:*', '*'), deny('kms:ScheduleKeyDeletion', '*'), deny('kms:Decrypt', OTHER_KEY))];
      expect(evaluate(docs, 'kms:Decrypt', KEY)).toBe('allowed');
    });

    it('a wildcard Deny applies', () => {
      expect(evaluate([policy(allow('s3:PutObject', OBJECT), deny('s3:*', 'arn:aws:s3:::ssm-session-logs-*'))], 's3:PutObject', OBJECT)).toBe('denied');
    });

    it('a Deny beats an Allow that is only conditional', () => {
      const docs = [
        policy(allow('kms:Decrypt', KEY, { Condition: { StringEquals: { 'kms:ViaService': 'ssm.eu-west-1.amazonaws.com' } } }), deny('kms:Decrypt', KEY)),
      ];
      expect(evaluate(docs, 'kms:Decrypt', KEY)).toBe('denied');
    });
  });

  describe('conditional statements: cannot tell', () => {
    const cond = { Condition: { StringEquals: { 'aws:ResourceTag/Env': 'prod' } } };

    it('an Allow with a condition, and nothing else: conditional', () => {
      expect(evaluate([policy(allow('ssm:StartSession', '*', cond))], 'ssm:StartSession', 'arn:aws:ec2:eu-west-1:123456789012:instance/i-1')).toBe(
        'conditional',
      );
    });

    it('a conditional Allow plus an unconditional one: allowed, in either order', () => {
      const r = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-1';
      expect(evaluate([policy(allow('ssm:StartSession', '*', cond), allow('ssm:StartSession', '*'))], 'ssm:StartSession', r)).toBe('allowed');
      expect(evaluate([policy(allow('ssm:StartSession', '*'), allow('ssm:StartSession', '*', cond))], 'ssm:StartSession', r)).toBe('allowed');
    });

    it('a conditional Allow of another action does not make it conditional', () => {
      expect(evaluate([policy(allow('kms:Encrypt', KEY, cond))], 'kms:Decrypt', KEY)).toBe('implicit-deny');
    });

    it('a conditional Allow on another resource does not make it conditional', () => {
      expect(evaluate([policy(allow('kms:Decrypt', OTHER_KEY, cond))], 'kms:Decrypt', KEY)).toBe('implicit-deny');
    });
  });

  describe('NotAction and NotResource are not evaluated', () => {
    it('an Allow with NotAction: conditional', () => {
      const docs = [policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })];
      expect(evaluate(docs, 'kms:Decrypt', KEY)).toBe('conditional');
    });

    it('an Allow with NotResource: conditional', () => {
      const docs = [policy({ Effect: 'Allow', Action: 'kms:Decrypt', NotResource: OTHER_KEY })];
      expect(evaluate(docs, 'kms:Decrypt', KEY)).toBe('conditional');
    });

    it('a plain Allow beside a NotAction one: allowed, in either order', () => {
      const notAction = { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' };
      expect(evaluate([policy(notAction, allow('kms:Decrypt', KEY))], 'kms:Decrypt', KEY)).toBe('allowed');
      expect(evaluate([policy(allow('kms:Decrypt', KEY), notAction)], 'kms:Decrypt', KEY)).toBe('allowed');
    });

    it('an unconditional Deny still wins over a NotAction Allow', () => {
      const docs = [policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }, deny('kms:Decrypt', KEY))];
      expect(evaluate(docs, 'kms:Decrypt', KEY)).toBe('denied');
    });
  });
});
