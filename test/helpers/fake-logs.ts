import {
  AccessDeniedException,
  AssociateKmsKeyCommand,
  type AssociateKmsKeyCommandInput,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  type CreateLogGroupCommandInput,
  DeleteLogGroupCommand,
  type DeleteLogGroupCommandInput,
  DescribeLogGroupsCommand,
  type DescribeLogGroupsCommandInput,
  InvalidParameterException,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandInput,
  type LogGroup,
  PutRetentionPolicyCommand,
  type PutRetentionPolicyCommandInput,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  TagResourceCommand,
  type TagResourceCommandInput,
  TooManyTagsException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import { type FakeKms, keyPolicyAllows } from './fake-kms.js';
import { ACCOUNT, REGION } from './fixtures.js';
import { type LossOptions, lossyAnswers } from './lost-answer.js';

export interface FakeLogGroup {
  readonly name: string;
  /** Without the `:*` suffix (`logGroupArn`). */
  readonly arn: string;
  kmsKeyId?: string;
  retentionDays?: number;
  tags: Record<string, string>;
}

/** PutRetentionPolicy's allowed values (the API reference). */
export const RETENTION_VALUES = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export const groupArnOf = (name: string, region = REGION) => `arn:aws:logs:${region}:${ACCOUNT}:log-group:${name}`;

const meta = { $metadata: {} };
const invalid = (message: string) => new InvalidParameterException({ message, ...meta });
const KEY_ARN = /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/**
 * A stateful CloudWatch Logs behind aws-sdk-client-mock, as strict as the service where the
 * log-group step could go wrong: a group is encrypted only with a key ARN whose key policy (read
 * from `kms`) admits `logs.<region>.amazonaws.com` for that group (else the real
 * AccessDeniedException), a key that has just changed is not usable at once, retention takes
 * only the allowed values, tags go on the ARN without `:*`, and DescribeLogGroups pages.
 */
export function fakeLogs(kms: FakeKms, opts: { pageSize?: number; region?: string } = {}) {
  // The service principal and the group ARNs are regional: those of the key's region unless told.
  const region = opts.region ?? kms.region;
  const mock = mockClient(CloudWatchLogsClient);
  const groups = new Map<string, FakeLogGroup>();

  const addGroup = (name: string, o: Partial<Omit<FakeLogGroup, 'name' | 'arn'>> = {}) => {
    const group: FakeLogGroup = { name, arn: groupArnOf(name, region), tags: {}, ...o };
    groups.set(name, group);
    return group;
  };

  const described = (g: FakeLogGroup): LogGroup => ({
    logGroupName: g.name,
    creationTime: 1,
    metricFilterCount: 0,
    arn: `${g.arn}:*`,
    logGroupArn: g.arn,
    storedBytes: 0,
    ...(g.retentionDays ? { retentionInDays: g.retentionDays } : {}),
    ...(g.kmsKeyId ? { kmsKeyId: g.kmsKeyId } : {}),
  });

  /** CloudWatch Logs checks the key with KMS on the group's behalf, as its service principal. */
  const checkKey = (kmsKeyId: string, groupArn: string) => {
    if (!KEY_ARN.test(kmsKeyId)) throw invalid(`Specified KMS key ${kmsKeyId} is not a valid KMS key ARN.`);
    const key = kms.key(kmsKeyId);
    const refused = () =>
      new AccessDeniedException({ message: `The specified KMS key does not exist or is not allowed to be used with Arn '${groupArn}'`, ...meta });
    if (key?.meta.KeyState !== 'Enabled' || key.meta.KeySpec !== 'SYMMETRIC_DEFAULT') throw refused();
    if (key.logsLag) {
      key.logsLag = false;
      throw refused();
    }
    const context = { 'kms:EncryptionContext:aws:logs:arn': groupArn };
    const principal = [`logs.${region}.amazonaws.com`];
    const admits = ['kms:GenerateDataKey', 'kms:Decrypt'].every((a) => keyPolicyAllows(key.policy, 'Service', principal, a, context));
    if (!admits) throw refused();
  };

  const checkTags = (current: Record<string, string>, tags: Record<string, string>) => {
    for (const k of Object.keys(tags)) if (/^aws:/i.test(k)) throw invalid(`Tag key ${k}: the aws: prefix is reserved`);
    const next = { ...current, ...tags };
    if (Object.keys(next).length > 50) throw new TooManyTagsException({ message: 'A resource can have at most 50 tags', resourceName: '', ...meta });
    return next;
  };

  const group = (name: string | undefined) => {
    const g = groups.get(name ?? '');
    if (!g) throw new ResourceNotFoundException({ message: 'The specified log group does not exist.', ...meta });
    return g;
  };
  /** Tagging calls take the log group's ARN without `:*`. */
  const byArn = (arn: string | undefined) => {
    if (arn?.endsWith(':*')) throw invalid(`Invalid resource ARN ${arn}: a log group ARN ends with its name, without :*`);
    const g = [...groups.values()].find((x) => x.arn === arn);
    if (!g) throw new ResourceNotFoundException({ message: `Resource ${arn} does not exist.`, ...meta });
    return g;
  };

  const losses = lossyAnswers();
  /** Every handler goes through `losses`, so any call can lose its answer. */
  const on = <I>(command: { name: string }, fn: (input: I) => unknown) =>
    (mock.on as (c: unknown) => { callsFake(f: unknown): unknown })(command).callsFake(losses.wrap(command, fn));

  on(DescribeLogGroupsCommand, async (i: DescribeLogGroupsCommandInput) => {
    if (i.logGroupNamePrefix && i.logGroupNamePattern) throw invalid('logGroupNamePrefix and logGroupNamePattern are mutually exclusive');
    if (i.limit !== undefined && (i.limit < 1 || i.limit > 50)) throw invalid('limit must be 1 to 50');
    const all = [...groups.values()]
      .filter((g) => g.name.startsWith(i.logGroupNamePrefix ?? '') && (!i.logGroupNamePattern || g.name.includes(i.logGroupNamePattern)))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const start = i.nextToken ? Number(i.nextToken) : 0;
    const end = start + (i.limit ?? opts.pageSize ?? 50);
    return { logGroups: all.slice(start, end).map(described), ...(end < all.length ? { nextToken: String(end) } : {}) };
  });
  on(CreateLogGroupCommand, async (i: CreateLogGroupCommandInput) => {
    const name = i.logGroupName ?? '';
    if (!/^[.\-_/#A-Za-z0-9]{1,512}$/.test(name)) throw invalid(`Invalid log group name ${name}`);
    if (groups.has(name)) throw new ResourceAlreadyExistsException({ message: 'The specified log group already exists', ...meta });
    if (i.kmsKeyId) checkKey(i.kmsKeyId, groupArnOf(name, region));
    const tags = checkTags({}, i.tags ?? {});
    addGroup(name, { tags, ...(i.kmsKeyId ? { kmsKeyId: i.kmsKeyId } : {}) });
    return {};
  });
  on(AssociateKmsKeyCommand, async (i: AssociateKmsKeyCommandInput) => {
    const g = group(i.logGroupName);
    checkKey(i.kmsKeyId ?? '', g.arn);
    g.kmsKeyId = i.kmsKeyId;
    return {};
  });
  on(PutRetentionPolicyCommand, async (i: PutRetentionPolicyCommandInput) => {
    const g = group(i.logGroupName);
    if (!RETENTION_VALUES.includes(i.retentionInDays ?? -1)) throw invalid(`${i.retentionInDays} is not a valid retention in days`);
    g.retentionDays = i.retentionInDays;
    return {};
  });
  on(ListTagsForResourceCommand, async (i: ListTagsForResourceCommandInput) => ({ tags: { ...byArn(i.resourceArn).tags } }));
  on(TagResourceCommand, async (i: TagResourceCommandInput) => {
    const g = byArn(i.resourceArn);
    g.tags = checkTags(g.tags, i.tags ?? {});
    return {};
  });
  on(DeleteLogGroupCommand, async (i: DeleteLogGroupCommandInput) => {
    groups.delete(group(i.logGroupName).name);
    return {};
  });

  return {
    mock,
    groups,
    addGroup,
    /**
     * The next call(s) of `command` are carried out, then their answer is lost (a reset
     * connection, or a 500): see test/helpers/lost-answer.ts for what the client then sees.
     */
    loseAnswerOnce: (command: { name: string }, opts?: LossOptions) => losses.lose(command, opts),
    /** Requests of `command` that reached CloudWatch Logs, the SDK's retries included. */
    attempts: (command: { name: string }) => losses.attempts(command),
    /** Write calls made so far (CreateLogGroup, AssociateKmsKey, …). */
    writes: () =>
      mock
        .calls()
        .map((c) => (c.args[0] as object).constructor.name)
        .filter(isWriteCall),
  };
}

export type FakeLogs = ReturnType<typeof fakeLogs>;
